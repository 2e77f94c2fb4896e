// One POP3 session on a connected socket: the piece every launch mode
// shares (inetd, systemd Accept=yes, a forked child, a session thread).
#pragma once

#include "app/session_registry.hpp"
#include "config/config.hpp"
#include "log/log.hpp"
#include "priv/credentials.hpp"
#include "session/session.hpp"
#include "tls/tls.hpp"

#include <memory>
#include <optional>
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

// Who is at the other end: the client's address, the load balancer's when
// a trusted PROXY header named the client (limits, PAM_RHOST and logs use
// the client's), and the session id that every line about it carries.
using Peer = log::Connection;

// Whether a connection from `address` must start with a PROXY header.
bool from_trusted_proxy(const config::Config& config, const std::string& address);

// For inetd and systemd Accept=yes: the peer of in_fd, with the PROXY
// header read first when it comes from a trusted proxy; its lines carry
// `session`. nullopt: no good header came (logged), or the connection is
// already gone; close it.
std::optional<Peer> identify_peer(int in_fd, const config::Config& config, const std::string& session);

// What a connection carries from accept to its session, in every launch mode.
struct ConnectionContext {
    // The config as it was when the connection came (a SIGHUP does not change it).
    std::shared_ptr<const config::Config> config;
    Peer peer;
    // How root is given up after login: for the whole process (inetd, fork)
    // or for this thread.
    priv::Scope scope = priv::Scope::process;
    std::shared_ptr<tls::Context> tls;  // STLS is offered when set
    bool implicit_tls = false;          // the handshake comes before the greeting (pop3s)
    // The failed-login counts and login slots shared with other sessions.
    session::LoginThrottle* throttle = nullptr;
    // Where the session is listed for pop3d who, from here to its end, and
    // where pop3d kick finds it.
    SessionRegistry* sessions = nullptr;
};

// Serves one client on in_fd/out_fd. Every line logged meanwhile carries
// the peer's address and session id.
void serve_connection(int in_fd, int out_fd, const ConnectionContext& connection);

// runtime_dir/sessions, or memory (with a warning: pop3d who cannot see
// these sessions then).
std::unique_ptr<SessionRegistry> open_session_registry(const config::Config& config);

}  // namespace pop3d::app
