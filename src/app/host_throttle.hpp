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

    unsigned failures(std::string_view address) override { return failures_ ? failures_->failures(address) : 0; }
    void record_failure(std::string_view address) override {
        if (failures_) failures_->record_failure(address);
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
