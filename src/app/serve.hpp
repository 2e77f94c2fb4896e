// One POP3 session on a connected socket: the piece every launch mode
// shares (inetd, systemd Accept=yes, a forked child, a session thread).
#pragma once

#include "app/failure_table.hpp"
#include "config/config.hpp"
#include "priv/credentials.hpp"
#include "session/session.hpp"
#include "tls/tls.hpp"

#include <memory>

#include <string>

namespace pop3d::app {

// The session's settings for a client at `peer` (the TLS policy depends on it).
session::SessionSettings session_settings(const config::Config& config, const std::string& peer);
bool is_loopback(const std::string& address);

// Sends logs where the config says (syslog facility or log_file).
void start_logging(const config::Config& config);

// The TLS context the config asks for: nullptr when no certificate is
// configured; an error when one is configured but cannot be loaded (or
// this build has no TLS).
std::shared_ptr<tls::Context> load_tls(const config::Config& config, std::string& error);

// Serves one client on in_fd/out_fd. scope says how root is given up after
// login: for the whole process (inetd, fork) or for this thread. With tls,
// STLS is offered; with implicit_tls the handshake comes before the greeting.
// throttle: the failed-login counts shared with other sessions.
void serve_connection(int in_fd, int out_fd, const config::Config& config, priv::Scope scope,
                      const std::string& peer, std::shared_ptr<tls::Context> tls = nullptr,
                      bool implicit_tls = false, session::LoginThrottle* throttle = nullptr);

// The failed-login table in session_lock_dir (anonymous memory, with a
// warning, when that is not set or not usable). nullptr only when even
// memory could not be had.
std::unique_ptr<FailureTable> open_failure_table(const config::Config& config);

}  // namespace pop3d::app
