#include "net/connection_table.hpp"

namespace pop3d::net {

ConnectionTable::Admit ConnectionTable::admit(const std::string& address, std::size_t max_total,
                                              std::size_t max_per_address) {
    std::lock_guard lock(mutex_);
    if (total_ >= max_total) return Admit::too_many;
    std::size_t& n = per_address_[address];
    if (n >= max_per_address) {
        if (n == 0) per_address_.erase(address);
        return Admit::too_many_from_address;
    }
    ++n;
    ++total_;
    return Admit::ok;
}

void ConnectionTable::release(const std::string& address) {
    std::lock_guard lock(mutex_);
    release_locked(address);
}

void ConnectionTable::release_locked(const std::string& address) {
    const auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    if (total_ > 0 && --total_ == 0) empty_.notify_all();
}

ConnectionTable::Admit ConnectionTable::transfer(const std::string& from, const std::string& to,
                                                 std::size_t max_per_address) {
    std::lock_guard lock(mutex_);
    std::size_t& n = per_address_[to];
    if (n >= max_per_address) {
        if (n == 0) per_address_.erase(to);
        release_locked(from);
        return Admit::too_many_from_address;
    }
    ++n;
    const auto it = per_address_.find(from);
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
