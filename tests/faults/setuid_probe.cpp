// LD_PRELOAD shim for the privilege tests. Right after the process gives up
// root with setresuid, it does what code injected into the session would do
// there: tries setuid(0), seteuid(0) and setresuid(0, 0, 0), and to open
// $SETUID_PROBE_SECRET (a root-only file). One line per drop goes to
// $SETUID_PROBE_LOG, which is opened while still root.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using SetresuidFn = int (*)(uid_t, uid_t, uid_t);

SetresuidFn real_setresuid() {
    static const auto fn = reinterpret_cast<SetresuidFn>(::dlsym(RTLD_NEXT, "setresuid"));
    return fn;
}

// "0" on success, else "-1/EPERM" and so on.
const char* outcome(int rc, int err, char (&buf)[32]) {
    if (rc >= 0) return "0";
    const char* name = ::strerrorname_np(err);
    std::snprintf(buf, sizeof buf, "-1/%s", name ? name : "?");
    return buf;
}

}  // namespace

extern "C" int setresuid(uid_t r, uid_t e, uid_t s) {
    const char* log = std::getenv("SETUID_PROBE_LOG");
    const int log_fd = log && ::geteuid() == 0 ? ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    const int rc = real_setresuid()(r, e, s);
    const int saved = errno;
    if (log_fd >= 0) {
        if (rc == 0 && r != 0 && e != 0 && s != 0) {
            char b1[32], b2[32], b3[32], b4[32];
            errno = 0;
            const int su = ::setuid(0);
            const int su_err = errno;
            const int seu = ::seteuid(0);
            const int seu_err = errno;
            const int sru = real_setresuid()(0, 0, 0);
            const int sru_err = errno;
            const char* secret = std::getenv("SETUID_PROBE_SECRET");
            const int fd = secret ? ::open(secret, O_RDONLY | O_CLOEXEC) : -1;
            const int fd_err = errno;
            if (fd >= 0) ::close(fd);
            ::dprintf(log_fd, "pid=%d uid=%u setuid(0)=%s seteuid(0)=%s setresuid(0,0,0)=%s open(secret)=%s\n",
                      static_cast<int>(::getpid()), static_cast<unsigned>(::getuid()), outcome(su, su_err, b1),
                      outcome(seu, seu_err, b2), outcome(sru, sru_err, b3), outcome(fd, fd_err, b4));
        }
        ::close(log_fd);
    }
    errno = saved;
    return rc;
}
