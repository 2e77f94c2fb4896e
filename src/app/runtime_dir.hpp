// The files of runtime_dir: the state every pop3d of the host shares
// (failed logins, login slots, live sessions), each a common/shared_state
// block that falls back to memory when its file cannot be used.
#pragma once

#include "config/config.hpp"
#include "log/events.hpp"

#include <sys/stat.h>

#include <string>

namespace pop3d::app {

// runtime_dir/NAME ("" when runtime_dir is empty).
inline std::string runtime_file(const config::Config& c, const char* name) {
    return c.runtime_dir.empty() ? "" : c.runtime_dir + "/" + name;
}

// Opens runtime_dir/NAME with open(path, &error), making the directory
// when it is missing; warns (with `fallback`, what the memory copy means)
// when the file fails.
template <typename Open>
auto open_in_runtime_dir(const config::Config& c, const char* name, const char* fallback, Open&& open) {
    const std::string path = runtime_file(c, name);
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

}  // namespace pop3d::app
