#include "app/host_throttle.hpp"

#include "app/runtime_dir.hpp"

namespace pop3d::app {

std::unique_ptr<HostThrottle> HostThrottle::open(const config::Config& c) {
    // Threads and forked children still share the memory copies; inetd processes do not.
    auto failures = open_in_runtime_dir(c, "auth-failures", "failed logins are counted per process only",
                                        [&](const std::string& path, std::string* error) {
                                            return FailureTable::open(path, std::chrono::seconds(c.auth_fail_window),
                                                                      error);
                                        });
    auto gate = open_in_runtime_dir(c, "logins", "max_concurrent_logins applies per process only",
                                    [&](const std::string& path, std::string* error) {
                                        return LoginGate::open(path, c.max_concurrent_logins, error);
                                    });
    return std::make_unique<HostThrottle>(std::move(failures), std::move(gate));
}

void HostThrottle::reconfigure(const config::Config& c) {
    if (failures_) failures_->set_window(std::chrono::seconds(c.auth_fail_window));
    if (gate_) gate_->set_limit(c.max_concurrent_logins);
}

}  // namespace pop3d::app
