#include "app/login_gate.hpp"

#include "common/shared_state.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace pop3d::app {

namespace {

constexpr std::uint32_t kMagic = 0x7033676c;  // "p3gl"
constexpr std::uint32_t kVersion = 1;

timespec monotonic_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

timespec plus(timespec t, std::chrono::milliseconds d) {
    const auto ms = std::max<std::int64_t>(d.count(), 0);
    t.tv_sec += static_cast<time_t>(ms / 1000);
    t.tv_nsec += static_cast<long>(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_nsec -= 1000000000L;
        ++t.tv_sec;
    }
    return t;
}

bool before(const timespec& a, const timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

struct LoginGate::Layout {
    std::uint32_t magic;
    std::uint32_t version;
    pthread_mutex_t mutex;
    pthread_cond_t freed;       // signalled when a slot is left
    std::int64_t last_check;    // CLOCK_MONOTONIC seconds of the last look for dead holders
    pid_t holders[kMaxSlots];  // 0: free
};

namespace {

bool init_layout(void* block) {
    auto* m = static_cast<LoginGate::Layout*>(block);
    if (!shared_state::init_robust_mutex(&m->mutex)) return false;
    pthread_condattr_t attr;
    ::pthread_condattr_init(&attr);
    ::pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    ::pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    const bool ok = ::pthread_cond_init(&m->freed, &attr) == 0;
    ::pthread_condattr_destroy(&attr);
    return ok;
}

const shared_state::Kind kKind{kMagic, kVersion, sizeof(LoginGate::Layout), init_layout, "a pop3d login gate"};

}  // namespace

std::string LoginGate::file_fault(const std::string& path) { return shared_state::file_fault(path, kKind); }

std::unique_ptr<LoginGate> LoginGate::open(const std::string& path, unsigned limit, std::string* error) {
    void* p = shared_state::map(path, kKind, error);
    if (!p) return nullptr;
    auto* m = static_cast<Layout*>(p);
    // Nothing of this process holds a slot yet: one with our pid was left by
    // an earlier process that had it (a container's pid 1, restarted), and
    // the dead-holder check would never take it back from us.
    if (const shared_state::RobustLock lock(&m->mutex); lock)
        for (pid_t& h : m->holders)
            if (h == ::getpid()) h = 0;
    return std::make_unique<LoginGate>(m, limit);
}

LoginGate::~LoginGate() { shared_state::unmap(map_, kKind); }

void LoginGate::set_limit(unsigned limit) { limit_ = limit; }

bool LoginGate::enter(std::chrono::milliseconds max_wait) {
    const timespec deadline = plus(monotonic_now(), max_wait);
    const pid_t self = ::getpid();
    const shared_state::RobustLock lock(&map_->mutex);
    if (!lock) return true;  // the gate is broken: better unlimited than no logins at all
    for (;;) {
        // Every held slot counts, also those past a limit lowered meanwhile.
        const unsigned limit = std::clamp(limit_.load(), 1u, kMaxSlots);
        unsigned held = 0;
        pid_t* free_slot = nullptr;
        for (pid_t& h : map_->holders) {
            if (h != 0) ++held;
            else if (!free_slot) free_slot = &h;
        }
        if (held < limit && free_slot) {
            *free_slot = self;
            return true;
        }
        // Looking for dead holders costs a syscall per slot: once a second
        // for the whole host, however many wait.
        const timespec now = monotonic_now();
        if (now.tv_sec != map_->last_check) {
            map_->last_check = now.tv_sec;
            bool taken_back = false;
            for (pid_t& h : map_->holders) {
                if (h != 0 && h != self && process_gone(h)) {
                    h = 0;
                    taken_back = true;
                }
            }
            if (taken_back) continue;
        }
        if (!before(now, deadline)) return false;
        // A holder killed in PAM signals nobody: look again every second.
        const timespec next = plus(now, std::chrono::seconds(1));
        const int rc = ::pthread_cond_timedwait(&map_->freed, &map_->mutex, before(next, deadline) ? &next : &deadline);
        if (rc == EOWNERDEAD) ::pthread_mutex_consistent(&map_->mutex);
    }
}

void LoginGate::leave() {
    const pid_t self = ::getpid();
    const shared_state::RobustLock lock(&map_->mutex);
    if (!lock) return;
    for (pid_t& h : map_->holders) {
        if (h == self) {
            h = 0;
            break;
        }
    }
    ::pthread_cond_signal(&map_->freed);
}

unsigned LoginGate::in_progress() {
    const shared_state::RobustLock lock(&map_->mutex);
    if (!lock) return 0;
    return static_cast<unsigned>(std::count_if(std::begin(map_->holders), std::end(map_->holders),
                                               [](pid_t h) { return h != 0; }));
}

}  // namespace pop3d::app
