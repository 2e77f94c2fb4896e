// How many logins are being checked at once, host-wide. PAM with a
// memory-hard hash costs 16 MiB and a CPU for a tenth of a second per
// login (yescrypt, Debian's default); thousands of connections sending
// PASS at the same moment must queue, not exhaust memory. The slots live
// in shared state (common/shared_state.hpp: a file in the runtime
// directory), so threads, forked children and inetd processes share one
// limit. A slot holds the pid of its process; the slot of a process that
// is gone (kill -9 in the middle of PAM) is taken back by the next waiter.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace pop3d::app {

class LoginGate {
public:
    static constexpr unsigned kMaxSlots = 1024;

    // path empty: anonymous memory. `error` says why the file was not used.
    static std::unique_ptr<LoginGate> open(const std::string& path, unsigned limit, std::string* error);
    // Why open() would not use the file at path ("" when it would or there is
    // none): pop3d -t. Only reads.
    static std::string file_fault(const std::string& path);
    ~LoginGate();
    LoginGate(const LoginGate&) = delete;
    LoginGate& operator=(const LoginGate&) = delete;

    // Waits until fewer than `limit` logins are in progress, at most
    // max_wait. True: this caller holds a slot until leave().
    bool enter(std::chrono::milliseconds max_wait);
    void leave();
    void set_limit(unsigned limit);  // SIGHUP, with sessions running
    unsigned in_progress();          // slots held, by any process

    struct Layout;
    LoginGate(Layout* map, unsigned limit) : map_(map), limit_(limit) {}

private:
    Layout* map_;
    std::atomic<unsigned> limit_;
};

}  // namespace pop3d::app
