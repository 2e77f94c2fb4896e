#include "net/connection_table.hpp"

#include "net/address_key.hpp"

namespace pop3d::net {

ConnectionTable::Admit ConnectionTable::admit(const std::string& address, std::size_t max_total,
                                              std::size_t max_per_address) {
    const std::string key = address_key_text(address);
    std::lock_guard lock(mutex_);
    if (total_ >= max_total) return Admit::too_many;
    std::size_t& n = per_address_[key];
    if (n >= max_per_address) {
        if (n == 0) per_address_.erase(key);
        return Admit::too_many_from_address;
    }
    ++n;
    ++total_;
    return Admit::ok;
}

void ConnectionTable::release(const std::string& address) {
    const std::string key = address_key_text(address);
    std::lock_guard lock(mutex_);
    release_locked(key);
}

void ConnectionTable::release_locked(const std::string& key) {
    const auto it = per_address_.find(key);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    if (total_ > 0 && --total_ == 0) empty_.notify_all();
}

ConnectionTable::Admit ConnectionTable::transfer(const std::string& from, const std::string& to,
                                                 std::size_t max_per_address) {
    const std::string from_key = address_key_text(from), to_key = address_key_text(to);
    std::lock_guard lock(mutex_);
    std::size_t& n = per_address_[to_key];
    if (n >= max_per_address) {
        if (n == 0) per_address_.erase(to_key);
        release_locked(from_key);
        return Admit::too_many_from_address;
    }
    ++n;
    const auto it = per_address_.find(from_key);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    return Admit::ok;
}

std::size_t ConnectionTable::count() const {
    std::lock_guard lock(mutex_);
    return total_;
}

bool ConnectionTable::wait_empty(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return empty_.wait_until(lock, deadline, [&] { return total_ == 0; });
}

}  // namespace pop3d::net
