#include "mailbox/file_io.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace pop3d::mailbox {

namespace {

// Repeats io(p, len, offset), a pread or a pwrite, until all len bytes are
// done. EINTR is tried again; 0 bytes (end of file) fails with errno 0.
template <class Byte, class Io>
bool full(Io io, Byte* p, std::size_t len, std::uint64_t offset) {
    while (len > 0) {
        const ssize_t n = io(p, len, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) {
            errno = 0;
            return false;
        }
        p += n;
        len -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

}  // namespace

bool pread_full(int fd, void* buf, std::size_t len, std::uint64_t offset) {
    return full([fd](char* p, std::size_t n, off_t at) { return ::pread(fd, p, n, at); }, static_cast<char*>(buf), len,
                offset);
}

bool pwrite_full(int fd, const void* buf, std::size_t len, std::uint64_t offset) {
    return full([fd](const char* p, std::size_t n, off_t at) { return ::pwrite(fd, p, n, at); },
                static_cast<const char*>(buf), len, offset);
}

bool read_range(int fd, std::uint64_t offset, std::uint64_t len,
                const std::function<bool(const char*, std::size_t)>& sink, std::size_t chunk) {
    if (len == 0) return true;
    const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(len, chunk));
    auto buf = std::make_unique_for_overwrite<char[]>(size);
    while (len > 0) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(len, size));
        if (!pread_full(fd, buf.get(), want, offset)) return false;
        if (!sink(buf.get(), want)) return true;
        offset += want;
        len -= want;
    }
    return true;
}

}  // namespace pop3d::mailbox
