// One POP3 session on a connected socket: the piece every launch mode
// shares (inetd, systemd Accept=yes, a forked child, a session thread).
#pragma once

#include "config/config.hpp"
#include "priv/credentials.hpp"
#include "session/session.hpp"

#include <string>

namespace pop3d::app {

session::SessionSettings session_settings(const config::Config& config);

// Sends logs where the config says (syslog facility or log_file).
void start_logging(const config::Config& config);

// Serves one client on in_fd/out_fd. scope says how root is given up after
// login: for the whole process (inetd, fork) or for this thread.
void serve_connection(int in_fd, int out_fd, const config::Config& config, priv::Scope scope,
                      const std::string& peer);

}  // namespace pop3d::app
