// Writes a benchmark mbox: MESSAGES messages whose sizes follow a log-normal
// law (median MEDIAN bytes, clipped to 1 KB-100 KB, mean about 1.5x the
// median), with realistic headers, text lines of 20-76 characters, and the
// awkward cases a server must convert: lines starting with a dot, quoted
// ">From " lines, and now and then one very long line. Same seed, same file.
//
//     gen_mbox OUT MESSAGES [MEDIAN_BYTES=1700] [SEED=1]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Rng {  // splitmix64: fast and good enough for test data
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
    double normal() {  // Box-Muller
        const double u = uniform() + 1e-300, v = uniform();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
    }
};

const char* const kWords[] = {"the",     "of",      "and",     "mail",   "server",  "message", "please",
                              "meeting", "report",  "attached", "thanks", "regards", "budget",  "quarter",
                              "review",  "tomorrow", "project", "update", "schedule", "office", "a",
                              "to",      "in",      "is",      "for",    "on",      "with",    "that"};
constexpr unsigned kWordCount = sizeof kWords / sizeof kWords[0];

void text_line(Rng& r, std::string& out, std::size_t width) {
    const std::size_t start = out.size();
    while (out.size() - start < width) {
        if (out.size() > start) out += ' ';
        out += kWords[r.below(kWordCount)];
    }
    out += '\n';
}

void message(Rng& r, std::uint64_t i, std::size_t median, std::string& out) {
    const double size = std::exp(std::log(static_cast<double>(median)) + 0.9 * r.normal());
    const std::size_t target = static_cast<std::size_t>(std::fmin(100000.0, std::fmax(1000.0, size)));
    const std::size_t begin = out.size();
    char head[1024];
    const unsigned sender = r.below(5000), h = r.below(24), m = r.below(60), s = r.below(60);
    std::snprintf(head, sizeof head,
                  "From sender%u@example.org Thu Nov 26 %02u:%02u:%02u 2026\n"
                  "Return-Path: <sender%u@example.org>\n"
                  "Received: from mx%u.example.org (mx%u.example.org [192.0.2.%u])\n"
                  "\tby mail.example.net (Postfix) with ESMTPS id 4F%llX\n"
                  "\tfor <user@example.net>; Thu, 26 Nov 2026 %02u:%02u:%02u +0000 (UTC)\n"
                  "Received: from localhost (localhost [127.0.0.1]) by mx%u.example.org\n"
                  "\twith ESMTP id %llu; Thu, 26 Nov 2026 %02u:%02u:%02u +0000\n"
                  "From: Sender %u <sender%u@example.org>\n"
                  "To: User <user@example.net>\n"
                  "Subject: Message %llu about the quarterly report\n"
                  "Date: Thu, 26 Nov 2026 %02u:%02u:%02u +0000\n"
                  "Message-ID: <%llu.%u@example.org>\n"
                  "MIME-Version: 1.0\n"
                  "Content-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: 8bit\n\n",
                  sender, h, m, s, sender, sender % 9, sender % 9, sender % 250, static_cast<unsigned long long>(i),
                  h, m, s, sender % 9, static_cast<unsigned long long>(i), h, m, s, sender, sender,
                  static_cast<unsigned long long>(i), h, m, s, static_cast<unsigned long long>(i), sender);
    out += head;
    const bool long_line = r.below(50) == 0;  // 2% carry one line of 2-20 KB (HTML without breaks)
    while (out.size() - begin < target) {
        const unsigned kind = r.below(1000);
        if (kind < 5) {
            out += '.';  // dot-stuffed on the wire
            text_line(r, out, 10 + r.below(60));
        } else if (kind < 7) {
            out += ">From the desk of sender ";  // a quoted From_ line, as MDAs write it
            text_line(r, out, 20);
        } else if (kind < 40) {
            out += '\n';  // paragraph break
        } else if (long_line && kind < 42) {
            text_line(r, out, 2000 + r.below(18000));
        } else {
            text_line(r, out, 20 + r.below(57));
        }
    }
    out += '\n';  // the separator line before the next From_
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: gen_mbox OUT MESSAGES [MEDIAN_BYTES=1700] [SEED=1]\n");
        return 2;
    }
    const std::uint64_t n = std::strtoull(argv[2], nullptr, 10);
    const std::size_t median = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1700;
    Rng r{argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1};
    std::FILE* f = std::fopen(argv[1], "wb");
    if (!f) {
        std::perror(argv[1]);
        return 1;
    }
    std::string buf;
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        message(r, i, median, buf);
        if (buf.size() >= (1u << 20) || i + 1 == n) {
            if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) {
                std::perror(argv[1]);
                return 1;
            }
            total += buf.size();
            buf.clear();
        }
    }
    if (std::fclose(f) != 0) {
        std::perror(argv[1]);
        return 1;
    }
    std::printf("%s: %llu messages, %llu bytes\n", argv[1], static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(total));
    return 0;
}
