// pop3d -t: what a sysadmin needs to know is wrong before clients find out.
#pragma once

#include "config/config.hpp"

#include <string>
#include <vector>

namespace pop3d::app {

struct CheckReport {
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
    std::vector<std::string> notes;  // what was checked and found fine
};

// Checks beyond syntax: the PAM service file, the mail group, the spool directory.
CheckReport check_setup(const config::Config& config);

}  // namespace pop3d::app
