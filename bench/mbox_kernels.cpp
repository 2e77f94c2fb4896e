// pop3d's mailbox code without the network, through the same classes a
// session uses: how fast it opens (locks and indexes), computes UIDs and
// encodes every message for RETR, beside a plain memchr pass over the same
// file read the same way (the limit an indexer can approach).
//
//     mbox_kernels MODE FILE [REPEATS=5]
//
// MODE: memchr, open, uidl, uidl_only (load_uids alone, without the open;
// UIDL_COMPAT=popa3d|dovecot|uw in the environment: with uidl_compat),
// uid_digests and uid_digests_one_core (the digests alone, with and without
// the helper thread; the file indexed outside the timing), retr, expunge (of every other message, on a
// copy made next to FILE; only the expunge is timed). Prints "MODE_s SECONDS" (best of REPEATS)
// and "bytes N" (open also "index_bytes_per_message", from the resident size). Run it under callgrind with REPEATS=1 for instruction counts.
#include "mailbox/file_io.hpp"
#include "mailbox/mbox_index.hpp"
#include "mailbox/mbox_maildrop.hpp"
#include "mailbox/uid_scan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace pop3d::mailbox;

namespace {

struct CountingSink final : ByteSink {
    std::uint64_t bytes = 0;
    bool write(std::string_view b) override {
        bytes += b.size();
        return true;
    }
};

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        std::perror(path.c_str());
        std::exit(1);
    }
    return static_cast<std::uint64_t>(st.st_size);
}

double index_bytes = 1e30;
double expunge_seconds = 1e30;
double uidl_only_seconds = 1e30;

// Resident bytes of this process (VmRSS).
long rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f && std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmRSS: %ld", &kib) == 1) break;
    if (f) std::fclose(f);
    return kib * 1024;
}

// prefetch: hash the UIDs on the second core while indexing, as a session
// does (only "uidl" times the open and the UIDL together; the other modes
// time one thing alone).
std::unique_ptr<MboxMaildrop> open_maildrop(const std::string& path, bool prefetch = false) {
    MboxOptions o;
    o.path = path;
    o.owner = ::geteuid();
    if (!prefetch) o.uid_prefetch_bytes = UINT64_MAX;
    // UIDL_COMPAT=popa3d|dovecot|uw: the ids as uidl_compat gives them.
    if (const char* c = std::getenv("UIDL_COMPAT")) o.compat.peer = pop3d::parse_uidl_peer(c).value_or(pop3d::UidlPeer::none);
    Result r;
    auto md = MboxMaildrop::open(o, r);
    if (!md || md->count() == 0) {
        std::fprintf(stderr, "mbox_kernels: %s: %s\n", path.c_str(), md ? "no messages" : r.detail.c_str());
        std::exit(1);
    }
    return md;
}

// The digests of every message of an indexed file, timed alone.
std::uint64_t time_digests(const std::string& path, bool helper) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const std::uint64_t size = file_size(path);
    const MboxSource source = file_source(fd, size);
    MboxIndexer indexer(true, static_cast<std::size_t>(-1), &source);
    read_range(fd, 0, size, [&](const char* p, std::size_t n) {
        indexer.feed(p, n);
        return true;
    });
    if (!indexer.finish()) std::exit(1);
    UidOverrides overrides;
    const auto t = std::chrono::steady_clock::now();
    if (!compute_all_uid_digests(fd, {indexer.messages().begin(), indexer.messages().end()}, indexer.end(), overrides,
                                 helper ? kUidHelperBytes : UINT64_MAX))
        std::exit(1);
    uidl_only_seconds = std::min(uidl_only_seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    ::close(fd);
    return indexer.messages().size();
}

// One run of MODE; returns a figure that depends on all the work done.
std::uint64_t run(const std::string& mode, const std::string& path) {
    if (mode == "memchr") {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        std::uint64_t lines = 0;
        read_range(fd, 0, file_size(path), [&](const char* p, std::size_t n) {
            const char* e = p + n;
            while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(e - p))) {
                ++lines;
                p = static_cast<const char*>(nl) + 1;
            }
            return true;
        });
        ::close(fd);
        return lines;
    }
    if (mode == "uid_digests" || mode == "uid_digests_one_core") return time_digests(path, mode == "uid_digests");
    const long rss_before = rss_bytes();
    auto md = open_maildrop(path, mode == "uidl");
    if (mode == "open") {
        // What an open maildrop keeps in memory, per message: the index.
        // The first run also grows the heap, which stays: the least is the index.
        index_bytes = std::min(index_bytes, static_cast<double>(rss_bytes() - rss_before) / static_cast<double>(md->count()));
        return md->count();
    }
    if (mode == "uidl") {
        if (!md->load_uids().ok()) std::exit(1);
        return md->uid(md->count() - 1).size();
    }
    if (mode == "uidl_only") {
        const auto t = std::chrono::steady_clock::now();
        if (!md->load_uids().ok()) std::exit(1);
        uidl_only_seconds = std::min(uidl_only_seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
        return md->uid(md->count() - 1).size();
    }
    if (mode == "expunge") {  // of every other message; on a copy, timed alone
        md.reset();
        const std::string copy = path + ".expunge";
        if (std::system(("cp '" + path + "' '" + copy + "' && sync").c_str()) != 0) std::exit(1);
        auto work = open_maildrop(copy);
        std::vector<bool> deleted(work->count());
        for (std::size_t i = 0; i < deleted.size(); i += 2) deleted[i] = true;
        const auto t = std::chrono::steady_clock::now();
        const Result r = work->expunge(deleted);
        expunge_seconds = std::min(expunge_seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
        if (!r.ok()) {
            std::fprintf(stderr, "mbox_kernels: expunge: %s\n", r.detail.c_str());
            std::exit(1);
        }
        ::unlink(copy.c_str());
        return work->count();
    }
    if (mode == "retr") {
        CountingSink sink;
        for (std::size_t i = 0; i < md->count(); ++i)
            if (!md->check(i).ok() || !md->send(i, std::nullopt, sink).ok()) std::exit(1);
        return sink.bytes;
    }
    std::fprintf(stderr, "mbox_kernels: unknown mode %s\n", mode.c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: mbox_kernels memchr|open|uidl|uidl_only|uid_digests|uid_digests_one_core|retr|expunge FILE [REPEATS=5]\n");
        return 2;
    }
    const std::string mode = argv[1], path = argv[2];
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
    double best = 1e30;
    std::uint64_t result = 0;
    for (int i = 0; i < repeats; ++i) {
        const auto t = std::chrono::steady_clock::now();
        result = run(mode, path);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
    if (mode == "open") std::printf("index_bytes_per_message %.1f\n", index_bytes);
    if (mode == "expunge") best = expunge_seconds;
    if (mode == "uidl_only" || mode.starts_with("uid_digests")) best = uidl_only_seconds;
    std::printf("%s_s %.6f\nbytes %llu\nresult %llu\n", mode.c_str(), best,
                static_cast<unsigned long long>(file_size(path)), static_cast<unsigned long long>(result));
    return 0;
}
