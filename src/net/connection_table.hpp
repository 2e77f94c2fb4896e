// Who is connected, for the limits: total and per client address. Shared by
// the accept loop and the session threads. Addresses count under their
// net::address_key_text, as the failed-login table counts them: an IPv6
// /64 is one client, however many addresses it uses.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace pop3d::net {

class ConnectionTable {
public:
    enum class Admit { ok, too_many, too_many_from_address };

    Admit admit(const std::string& address, std::size_t max_total, std::size_t max_per_address);
    void release(const std::string& address);
    // Counts a connection admitted under `from` (a load balancer's address)
    // under `to` (the client its PROXY header named) from now on. When `to`
    // is at its limit the connection is released instead.
    Admit transfer(const std::string& from, const std::string& to, std::size_t max_per_address);
    std::size_t count() const;
    // Waits until no connection is left or the deadline passes; true if empty.
    bool wait_empty(std::chrono::steady_clock::time_point deadline);

private:
    void release_locked(const std::string& key);
    mutable std::mutex mutex_;
    std::condition_variable empty_;
    std::size_t total_ = 0;
    std::map<std::string, std::size_t> per_address_;  // by address_key_text
};

}  // namespace pop3d::net
