// pop3d who, kick and unblock: what an administrator runs to see the live
// sessions of every pop3d that shares a runtime_dir (threads, forked
// sessions, inetd and systemd-activated processes alike), end one user's,
// and lift the failed-login block of an address. They act on the files of
// runtime_dir, so they must read the daemon's configuration (the same -c
// and -o), and run as the owner of those files: root, or the user pop3d
// runs as.
#pragma once

#include "app/daemon.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace pop3d::app {

// Whether word names a command (the first argument after the options).
bool is_control_command(std::string_view word);

// Runs args ("who", "kick USER", "unblock ADDR|all"); replies on out,
// problems on err. Exit status: 0 done, 1 nothing matched or it could not
// be done, 2 a bad argument.
int run_control(const ConfigSource& source, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);

}  // namespace pop3d::app
