// UIDL when many messages share an id (issue 17: anyone can mail copies of
// one X-UIDL), beside as many distinct messages.
//
//     uidl_dups MODE MESSAGES [DIR=/tmp] [REPEATS=3]
//
// MODE: distinct (hashed ids), xuidl (a distinct X-UIDL each), shared (one
// X-UIDL for all), identical (byte-identical messages: equal digests).
// Writes DIR/uidl_dups.MODE.mbox (removed after), opens it as a session does
// and times load_uids() alone (best of REPEATS); then make_uids_unique() alone
// on the same pattern of ids without any file. Prints "uidl_s SECONDS",
// "unique_s SECONDS", the memory each added at its peak ("uidl_peak_mib":
// the X-UIDL values the maildrop keeps included; "unique_peak_mib") and
// "messages N".
#include "mailbox/mbox_maildrop.hpp"
#include "mailbox/uid.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace pop3d::mailbox;

namespace {

enum class Mode { distinct, xuidl, shared, identical };

Mode parse_mode(const std::string& s) {
    if (s == "distinct") return Mode::distinct;
    if (s == "xuidl") return Mode::xuidl;
    if (s == "shared") return Mode::shared;
    if (s == "identical") return Mode::identical;
    std::fprintf(stderr, "uidl_dups: unknown mode %s\n", s.c_str());
    std::exit(2);
}

void write_mbox(const std::string& path, Mode mode, std::uint64_t n) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::perror(path.c_str());
        std::exit(1);
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        const unsigned long long k = mode == Mode::identical ? 0 : static_cast<unsigned long long>(i);
        std::fprintf(f, "From sender@example.org Thu Nov 26 10:00:00 2026\n");
        if (mode == Mode::xuidl) std::fprintf(f, "X-UIDL: uidl%llu\n", k);
        if (mode == Mode::shared) std::fprintf(f, "X-UIDL: 3b2f4c9a17d0e6f1\n");
        std::fprintf(f, "Subject: message %llu\n\nbody %llu\n\n", k, k);
    }
    if (std::fclose(f) != 0) {
        std::perror(path.c_str());
        std::exit(1);
    }
}

// From /proc/self/status, in KiB.
long status_kib(const char* field) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    const std::string prefix = std::string(field) + ": %ld";
    while (f && std::fgets(line, sizeof line, f))
        if (std::sscanf(line, prefix.c_str(), &kib) == 1) break;
    if (f) std::fclose(f);
    return kib;
}

void reset_peak_rss() {
    std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
    if (f) {
        std::fputs("5", f);  // resets VmHWM to the current resident size
        std::fclose(f);
    }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// load_uids() on the file; returns its time, sets peak_mib.
double time_load_uids(const std::string& path, std::uint64_t n, double& peak_mib) {
    MboxOptions o;
    o.path = path;
    o.owner = ::geteuid();
    Result r;
    auto md = MboxMaildrop::open(o, r);
    if (!md || md->count() != n) {
        std::fprintf(stderr, "uidl_dups: %s: %s\n", path.c_str(), md ? "wrong message count" : r.detail.c_str());
        std::exit(1);
    }
    const long before = status_kib("VmRSS");
    reset_peak_rss();
    const auto t = std::chrono::steady_clock::now();
    r = md->load_uids();
    const double s = seconds_since(t);
    if (!r.ok()) {
        std::fprintf(stderr, "uidl_dups: load_uids: %s\n", r.detail.c_str());
        std::exit(1);
    }
    peak_mib = static_cast<double>(status_kib("VmHWM") - before) / 1024.0;
    return s;
}

// make_uids_unique() alone, on entries shaped like MODE's messages; sets
// peak_mib.
double time_unique(Mode mode, std::uint64_t n, double& peak_mib) {
    std::vector<MessageEntry> entries(n);
    UidOverrides overrides;
    for (std::uint32_t i = 0; i < n; ++i) {
        MessageEntry& e = entries[i];
        for (std::size_t b = 0; b < 4; ++b) e.digest[b] = static_cast<std::uint8_t>(mode == Mode::identical ? 0 : i >> (8 * b));
        if (mode == Mode::xuidl || mode == Mode::shared) {
            e.flags = MessageEntry::kHasOverride;
            overrides[i] = mode == Mode::shared ? "3b2f4c9a17d0e6f1" : "uidl" + std::to_string(i);
        }
    }
    const long before = status_kib("VmRSS");
    reset_peak_rss();
    const auto t = std::chrono::steady_clock::now();
    make_uids_unique(entries, overrides);
    const double s = seconds_since(t);
    peak_mib = static_cast<double>(status_kib("VmHWM") - before) / 1024.0;
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: uidl_dups distinct|xuidl|shared|identical MESSAGES [DIR=/tmp] [REPEATS=3]\n");
        return 2;
    }
    const Mode mode = parse_mode(argv[1]);
    const std::uint64_t n = std::strtoull(argv[2], nullptr, 10);
    const std::string path = std::string(argc > 3 ? argv[3] : "/tmp") + "/uidl_dups." + argv[1] + ".mbox";
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
    if (n == 0 || n > UINT32_MAX) {
        std::fprintf(stderr, "uidl_dups: MESSAGES must be 1..%u\n", UINT32_MAX);
        return 2;
    }
    write_mbox(path, mode, n);
    double uidl = 1e30, unique = 1e30, uidl_peak = 0, unique_peak = 0;
    for (int i = 0; i < repeats; ++i) {
        double p = 0;
        uidl = std::min(uidl, time_load_uids(path, n, p));
        uidl_peak = std::max(uidl_peak, p);
        unique = std::min(unique, time_unique(mode, n, p));
        unique_peak = std::max(unique_peak, p);
    }
    ::unlink(path.c_str());
    std::printf("uidl_s %.6f\nunique_s %.6f\nuidl_peak_mib %.1f\nunique_peak_mib %.1f\nmessages %llu\n", uidl, unique,
                uidl_peak, unique_peak, static_cast<unsigned long long>(n));
    return 0;
}
