// The families of checks behind pop3d -t, one function each, and the file
// helpers they share. Only app/self_check*.cpp include this.
#pragma once

#include "app/self_check.hpp"
#include "config/config.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace pop3d::app::check {

// self_check.cpp
void pam(const config::Config& c, CheckReport& r);
std::optional<gid_t> mail_group(const config::Config& c, CheckReport& r);
void listen(const config::Config& c, CheckReport& r);
void tls(const config::Config& c, CheckReport& r);

// self_check_spool.cpp
void identity(const config::Config& c, CheckReport& r);
void spool(const config::Config& c, std::optional<gid_t> mail_gid, CheckReport& r);

// self_check_files.cpp
void state_dirs(const config::Config& c, CheckReport& r);
void pid_file(const config::Config& c, CheckReport& r);
void logging(const config::Config& c, CheckReport& r);

// Helpers (self_check_files.cpp).
std::string user_name(uid_t uid);    // "root", or "uid 5001" without a passwd entry
std::string group_name(gid_t gid);   // "mail", or "gid 8"
std::string describe(const struct stat& st);  // "root:mail 2775"
// Why this process could not create a file in the existing directory dir
// (faccessat as the effective ids), "" when it could.
std::string cannot_create_in(const std::string& dir);
// Whether a process with these ids could create a file in a directory with
// this stat, by the mode bits alone (owner, else group, else other), as the
// kernel decides for a process without capabilities. uid nullopt: a user
// who does not own the directory.
bool may_create(const struct stat& dir, std::optional<uid_t> uid, const std::vector<gid_t>& gids);
// This process's effective gid and supplementary groups.
std::vector<gid_t> own_groups();

}  // namespace pop3d::app::check
