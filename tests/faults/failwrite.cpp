// LD_PRELOAD shim for the full-disk tests: writes to files whose path
// contains $FAILWRITE_MATCH fail with $FAILWRITE_ERRNO (default ENOSPC) once
// $FAILWRITE_AFTER bytes (default 0) have been written to them. Covers
// write, pwrite, copy_file_range and fsync (with FAILWRITE_FSYNC=1).
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::atomic<long long> g_written{0};

bool matches(int fd) {
    const char* match = std::getenv("FAILWRITE_MATCH");
    if (!match || !*match) return false;
    char link[64];
    char target[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n <= 0) return false;
    target[n] = '\0';
    return std::strstr(target, match) != nullptr;
}

// Returns true (with errno set) when this write must fail.
bool should_fail(int fd, size_t len) {
    if (!matches(fd)) return false;
    const char* after = std::getenv("FAILWRITE_AFTER");
    const long long limit = after ? std::atoll(after) : 0;
    if (g_written.load() + static_cast<long long>(len) <= limit) {
        g_written += static_cast<long long>(len);
        return false;
    }
    const char* e = std::getenv("FAILWRITE_ERRNO");
    errno = e ? std::atoi(e) : ENOSPC;
    return true;
}

template <typename F>
F real(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t len) {
    if (should_fail(fd, len)) return -1;
    static auto f = real<ssize_t (*)(int, const void*, size_t)>("write");
    return f(fd, buf, len);
}

ssize_t pwrite64(int fd, const void* buf, size_t len, off64_t off) {
    if (should_fail(fd, len)) return -1;
    static auto f = real<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
    return f(fd, buf, len, off);
}

ssize_t pwrite(int fd, const void* buf, size_t len, off_t off) {
    if (should_fail(fd, len)) return -1;
    static auto f = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
    return f(fd, buf, len, off);
}

ssize_t copy_file_range(int in, off64_t* in_off, int out, off64_t* out_off, size_t len, unsigned flags) {
    if (should_fail(out, len)) return -1;
    static auto f = real<ssize_t (*)(int, off64_t*, int, off64_t*, size_t, unsigned)>("copy_file_range");
    return f(in, in_off, out, out_off, len, flags);
}

int fsync(int fd) {
    const char* on = std::getenv("FAILWRITE_FSYNC");
    if (on && *on == '1' && matches(fd)) {
        errno = EIO;
        return -1;
    }
    static auto f = real<int (*)(int)>("fsync");
    return f(fd);
}

}  // extern "C"
