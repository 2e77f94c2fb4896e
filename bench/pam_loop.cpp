// What PAM alone allows: PROCS processes each authenticating USER through
// SERVICE (pam_start, pam_authenticate, pam_acct_mgmt, pam_end) for SECONDS;
// prints the logins per second of them all. The ceiling for a POP3 server's
// session rate with the same PAM stack.
//
//     pam_loop SERVICE SECONDS PROCS USER PASSWORD
#include <security/pam_appl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int answer(int n, const pam_message** msg, pam_response** resp, void* data) {
    auto* r = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (!r) return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i)
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            r[i].resp = ::strdup(static_cast<const char*>(data));
    *resp = r;
    return PAM_SUCCESS;
}

// Logins until the deadline; -1 on the first failure.
long loop(const char* service, const char* user, const char* password, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    long n = 0;
    while (std::chrono::steady_clock::now() < end) {
        pam_conv conv{answer, const_cast<char*>(password)};
        pam_handle_t* h = nullptr;
        if (pam_start(service, user, &conv, &h) != PAM_SUCCESS) return -1;
        const int rc = pam_authenticate(h, PAM_SILENT);
        const int rc2 = rc == PAM_SUCCESS ? pam_acct_mgmt(h, PAM_SILENT) : rc;
        pam_end(h, rc2);
        if (rc2 != PAM_SUCCESS) {
            std::fprintf(stderr, "pam_loop: %s\n", pam_strerror(nullptr, rc2));
            return -1;
        }
        ++n;
    }
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: pam_loop SERVICE SECONDS PROCS USER PASSWORD\n");
        return 2;
    }
    const double seconds = std::atof(argv[2]);
    const int procs = std::atoi(argv[3]);
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    for (int i = 0; i < procs; ++i) {
        if (::fork() == 0) {
            const long n = loop(argv[1], argv[4], argv[5], seconds);
            if (::write(fds[1], &n, sizeof n) != sizeof n) _exit(1);
            _exit(0);
        }
    }
    ::close(fds[1]);
    long total = 0;
    bool failed = false;
    for (long n; ::read(fds[0], &n, sizeof n) == sizeof n;) {
        if (n < 0) failed = true;
        else total += n;
    }
    while (::wait(nullptr) > 0) {
    }
    if (failed) return 1;
    std::printf("pam_logins %ld\npam_logins_per_s %.1f\n", total, total / seconds);
    return 0;
}
