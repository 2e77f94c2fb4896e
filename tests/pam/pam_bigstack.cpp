// A PAM module for tests: uses 512 KiB of stack during authentication (more
// than Debian's pam_cap.so) and then lets the rest of the stack decide.
#include <security/pam_modules.h>

#include <cstring>

extern "C" {

__attribute__((noinline)) static int touch_stack() {
    volatile char buf[512 * 1024];
    std::memset(const_cast<char*>(buf), 1, sizeof buf);
    int sum = 0;
    for (std::size_t i = 0; i < sizeof buf; i += 4096) sum += buf[i];
    return sum;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t*, int, int, const char**) {
    return touch_stack() > 0 ? PAM_IGNORE : PAM_IGNORE;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t*, int, int, const char**) { return PAM_IGNORE; }

}  // extern "C"
