#include "net/stop_flag.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace pop3d::net {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<int> g_stop_fd{-1};
std::atomic<int> g_reload_fd{-1};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

void poke(int fd) noexcept {
    if (fd < 0) return;
    const std::uint64_t one = 1;
    const ssize_t n = ::write(fd, &one, sizeof one);
    (void)n;
}

extern "C" void on_stop_signal(int) { request_stop(); }

extern "C" void on_wake_signal(int) {}  // a wait returns EINTR; the flag says the rest

extern "C" void on_reload_signal(int) {
    g_reload.store(true);
    poke(g_reload_fd.load());
}

}  // namespace

bool stop_requested() noexcept { return g_stop.load(); }

void request_stop() noexcept {
    g_stop.store(true);
    poke(g_stop_fd.load());  // never read back: stays readable for every poller
}

int stop_fd() noexcept { return g_stop_fd.load(); }

bool take_reload_request() noexcept {
    if (!g_reload.exchange(false)) return false;
    std::uint64_t v;
    const ssize_t n = ::read(g_reload_fd.load(), &v, sizeof v);  // drain (non-blocking)
    (void)n;
    return true;
}

int reload_fd() noexcept { return g_reload_fd.load(); }

void reset_after_fork() {
    for (auto* fd : {&g_stop_fd, &g_reload_fd}) {
        const int old = fd->exchange(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (old >= 0) ::close(old);
    }
    g_stop.store(false);
    g_reload.store(false);
}

void install_signal_handlers() {
    if (g_stop_fd.load() < 0) g_stop_fd.store(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (g_reload_fd.load() < 0) g_reload_fd.store(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_reload_signal;
    sigaction(SIGHUP, &sa, nullptr);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, nullptr);
    struct sigaction wake {};
    sigemptyset(&wake.sa_mask);
    wake.sa_flags = 0;  // no SA_RESTART: the wait must return
    wake.sa_handler = on_wake_signal;
    sigaction(kWakeSignal, &wake, nullptr);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, kWakeSignal);
    ::pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
}

}  // namespace pop3d::net
