#include "net/stop_flag.hpp"

#include <poll.h>
#include <signal.h>

#include <atomic>

namespace pop3d::net {

namespace {
std::atomic<bool> g_stop{false};
sigset_t g_wait_mask;  // the mask while waiting: stop signals unblocked
bool g_installed = false;
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

bool stop_requested() noexcept { return g_stop.load(); }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, nullptr);

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, &g_wait_mask);
    sigdelset(&g_wait_mask, SIGTERM);
    sigdelset(&g_wait_mask, SIGINT);
    g_installed = true;
}

int poll_one(int fd, short events, int timeout_ms) {
    pollfd p{fd, events, 0};
    timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
    return ::ppoll(&p, 1, timeout_ms < 0 ? nullptr : &ts, g_installed ? &g_wait_mask : nullptr);
}

}  // namespace pop3d::net
