#include "mailbox/helper_thread.hpp"

#include <signal.h>

#include <atomic>

namespace pop3d::mailbox {

namespace {
std::atomic<int> helpers_running{0};
}  // namespace

HelperSlot::HelperSlot() {
    int none = 0;
    taken_ = helpers_running.compare_exchange_strong(none, 1);
}

HelperSlot::~HelperSlot() {
    if (taken_) helpers_running.store(0);
}

// The helper inherits the signal mask in force when it is created.
std::optional<std::jthread> start_helper(std::function<void()> job) {
    sigset_t all, before;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &before);
    std::optional<std::jthread> t;
    try {
        t.emplace(std::move(job));
    } catch (...) {  // no thread or no memory for it: the caller does it all
    }
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    return t;
}

}  // namespace pop3d::mailbox
