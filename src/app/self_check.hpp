// pop3d -t: what a sysadmin needs to know is wrong before clients find out.
// An error is a setup in which the daemon could not serve a login, or would
// run without a protection it is configured for; a warning is a risk.
#pragma once

#include "config/config.hpp"

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace pop3d::app {

struct ConfigSource;

enum class Level { ok, warning, error };

struct Finding {
    Level level;
    std::string text;
};

// The findings in the order they were made (by subject).
class CheckReport {
public:
    void ok(std::string text) { add(Level::ok, std::move(text)); }
    void warning(std::string text) { add(Level::warning, std::move(text)); }
    void error(std::string text) { add(Level::error, std::move(text)); }
    void append(const CheckReport& other) {
        findings_.insert(findings_.end(), other.findings_.begin(), other.findings_.end());
    }
    const std::vector<Finding>& findings() const { return findings_; }
    std::size_t count(Level level) const;

private:
    void add(Level level, std::string text) { findings_.push_back({level, std::move(text)}); }
    std::vector<Finding> findings_;
};

// Checks beyond syntax, as the user that runs it: who we are, PAM, the
// spool, the runtime directories, the pid file, logging, listening, TLS.
CheckReport check_setup(const config::Config& config);

// pop3d -t: loads the configuration, checks it and the setup, writes every
// finding to `out` as "ok: ", "warning: " or "error: " lines and a summary
// line last. Returns the exit status: 0 without errors, 1 with.
int run_self_check(const ConfigSource& source, std::ostream& out);

}  // namespace pop3d::app
