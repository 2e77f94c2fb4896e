#include "app/host_throttle.hpp"

#include "log/events.hpp"

#include <sys/stat.h>

namespace pop3d::app {

namespace {

// Opens runtime_dir/NAME, making the directory when it is missing;
// warns (with `fallback`, what the memory copy means) when the file fails.
template <typename Open>
auto open_in_runtime_dir(const config::Config& c, const char* name, const char* fallback, Open&& open) {
    const std::string path = c.runtime_dir.empty() ? "" : c.runtime_dir + "/" + name;
    std::string error;
    auto state = open(path, &error);  // anonymous memory when the file fails
    if (!error.empty() && ::mkdir(c.runtime_dir.c_str(), 0700) == 0) {
        error.clear();
        state = open(path, &error);
    }
    if (path.empty()) error = "runtime_dir is empty";
    if (!error.empty()) log::write(log::event::runtime_dir_unusable, error + "; " + fallback);
    return state;
}

}  // namespace

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
