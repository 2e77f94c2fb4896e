// The login state every session on the host shares: failed logins per
// client address, and the logins being checked right now. Both live in the
// runtime directory, so threads, forked children and inetd processes see
// the same; either falls back to memory (with a warning) when it cannot.
#pragma once

#include "app/failure_table.hpp"
#include "app/login_gate.hpp"
#include "config/config.hpp"
#include "session/login_throttle.hpp"

#include <memory>

namespace pop3d::app {

class HostThrottle final : public session::LoginThrottle {
public:
    HostThrottle(std::unique_ptr<FailureTable> failures, std::unique_ptr<LoginGate> gate)
        : failures_(std::move(failures)), gate_(std::move(gate)) {}
    static std::unique_ptr<HostThrottle> open(const config::Config& config);

    Guess reserve_guess(std::string_view address, unsigned budget) override {
        return failures_ ? failures_->reserve_guess(address, budget) : Guess{};
    }
    void return_guess(std::string_view address) override {
        if (failures_) failures_->return_guess(address);
    }
    bool begin_login(std::chrono::milliseconds max_wait) override { return !gate_ || gate_->enter(max_wait); }
    void end_login() override {
        if (gate_) gate_->leave();
    }
    void reconfigure(const config::Config& config);  // SIGHUP

private:
    std::unique_ptr<FailureTable> failures_;
    std::unique_ptr<LoginGate> gate_;
};

}  // namespace pop3d::app
