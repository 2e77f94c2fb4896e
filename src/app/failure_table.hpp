// Failed logins per client address, shared by every thread and process of
// pop3d on the host: a fixed-size table in a file of the runtime directory,
// mapped MAP_SHARED and guarded by a robust process-shared mutex (a holder
// killed with -9 cannot wedge it). Threads, forked children and separate
// inetd processes all see the same counts. Addresses count under
// net::address_key (IPv6 per /64, zones dropped). When the file cannot be used the table
// lives in anonymous shared memory: still shared by threads and by children
// forked after it was made, not by separate inetd processes.
#pragma once

#include "session/login_throttle.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace pop3d::app {

class FailureTable final : public session::LoginThrottle {
public:
    // path empty: anonymous memory. `error` says why the file was not used.
    static std::unique_ptr<FailureTable> open(const std::string& path, std::chrono::seconds window,
                                              std::string* error);
    // The table in the file at path, only when it exists and is good
    // (pop3d unblock): never created, no memory fallback.
    static std::unique_ptr<FailureTable> attach(const std::string& path, std::chrono::seconds window,
                                                std::string* error);
    // Why open() would not use the file at path ("" when it would or there is
    // none): pop3d -t. Only reads.
    static std::string file_fault(const std::string& path);
    ~FailureTable() override;
    FailureTable(const FailureTable&) = delete;
    FailureTable& operator=(const FailureTable&) = delete;

    Guess reserve_guess(std::string_view address, unsigned budget) override;
    void return_guess(std::string_view address) override;
    // Failed logins from this address in the current window (0 without a key).
    unsigned failures(std::string_view address);
    // pop3d unblock: forgets the failed logins counted for the address's
    // key (an IPv6 /64). The failures forgotten (counted in the current
    // window), or nullopt when the address has no key.
    std::optional<unsigned> forget(std::string_view address);
    struct Forgotten {
        unsigned addresses = 0;  // keys with failures in their current window
        unsigned long failures = 0;
    };
    Forgotten forget_all();
    void set_window(std::chrono::seconds window) { window_ = window.count(); }  // SIGHUP, with sessions running

    static constexpr std::size_t kSlots = 4096;  // addresses remembered (128 KiB)

    struct Layout;
    FailureTable(Layout* map, std::chrono::seconds window) : map_(map), window_(window.count()) {}

private:
    template <typename F>
    auto with_slot(std::string_view address, bool create, F&& f) -> decltype(f(nullptr, 0u));

    Layout* map_;
    std::atomic<std::int64_t> window_;  // seconds
};

}  // namespace pop3d::app
