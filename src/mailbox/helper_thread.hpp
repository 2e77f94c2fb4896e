// A second core for one large job of a session (hashing the UIDs, checking
// a saved index): at most one helper thread in the whole process at a time,
// since in the threaded daemon the other sessions already use the cores.
#pragma once

#include <functional>
#include <optional>
#include <thread>

namespace pop3d::mailbox {

// The process's one helper slot, taken if free, given back at the end of the scope.
class HelperSlot {
public:
    HelperSlot();
    ~HelperSlot();
    HelperSlot(const HelperSlot&) = delete;
    HelperSlot& operator=(const HelperSlot&) = delete;
    bool taken() const { return taken_; }

private:
    bool taken_ = false;
};

// Runs job on a new thread with every signal blocked (a signal meant for
// the process never runs a handler there). job must not throw. nullopt when
// the system has no thread to give (EAGAIN under RLIMIT_NPROC, no memory):
// the caller then does the work itself.
std::optional<std::jthread> start_helper(std::function<void()> job);

}  // namespace pop3d::mailbox
