#include "app/serve.hpp"

#include "app/runtime_dir.hpp"
#include "app/spool_opener.hpp"
#include "auth/pam_authenticator.hpp"
#include "build_config.h"
#include "common/clock.hpp"
#include "log/events.hpp"
#include "net/address_match.hpp"
#include "net/fd_transport.hpp"
#include "net/proxy_reader.hpp"

#include <unistd.h>

namespace pop3d::app {

bool is_loopback(const std::string& address) {
    return address.rfind("127.", 0) == 0 || address == "::1";
}

session::SessionSettings session_settings(const config::Config& c, const std::string& peer) {
    session::SessionSettings s;
    s.idle_timeout = std::chrono::seconds(c.idle_timeout);
    s.login_timeout = std::chrono::seconds(c.login_timeout);
    s.login_fail_delay = std::chrono::seconds(c.login_fail_delay);
    s.login_fail_delay_max = std::chrono::seconds(c.login_fail_delay_max);
    s.auth_fail_budget = c.auth_fail_budget;
    s.auth_fail_window = std::chrono::seconds(c.auth_fail_window);
    s.max_auth_failures = c.max_auth_failures;
    s.max_command_errors = c.max_command_errors;
    s.max_username_length = c.max_username_length;
    s.implementation = std::string("pop3d-") + POP3D_VERSION;
    // With TLS configured, passwords go in the clear only on loopback or
    // where the admin allows it (RFC 2595 §2.3).
    s.plaintext_auth = !c.tls_configured() || c.allow_plaintext_auth || is_loopback(peer);
    s.login_delay = c.login_delay;
    s.expire_days = c.expire.value;
    s.running_as = ::geteuid();
    return s;
}

void start_logging(const config::Config& c) {
    if (!c.log_file.empty()) {
        std::string error;
        if (log::use_file(c.log_file, &error)) return;
        log::use_syslog(log::facility_from_name(c.log_facility));
        log::write(log::event::log_file_failed, error + "; logging to syslog");
        return;
    }
    log::use_syslog(log::facility_from_name(c.log_facility));
}

std::shared_ptr<tls::Context> load_tls(const config::Config& c, std::string& error) {
    if (!c.tls_configured()) return nullptr;
    return tls::load({c.tls_cert, c.tls_key, c.tls_min_protocol, c.tls_ciphers}, error);
}

bool from_trusted_proxy(const config::Config& c, const std::string& address) {
    return !address.empty() && c.proxy_trusted.value.contains(address);
}

std::optional<Peer> identify_peer(int in_fd, const config::Config& c, const std::string& session) {
    if (net::peer_gone(in_fd)) return std::nullopt;  // reset before we got to it: a health check
    Peer peer{net::peer_address(in_fd), {}, session};
    if (!from_trusted_proxy(c, peer.address)) return peer;
    const Peer waiting{{}, peer.address, session};  // the client is not known yet
    const log::ConnectionScope scope(waiting);
    net::ProxyHeader header;
    std::string error;
    bool closed_early = false;
    if (!net::read_proxy_header(in_fd, std::chrono::seconds(c.proxy_timeout), header, &error, &closed_early)) {
        if (closed_early)
            log::write(log::event::proxy_missing, waiting.text() + ": closed before sending it (a health check?)");
        else
            log::write(log::event::proxy_refused, waiting.text() + ": " + error + "; connection closed");
        return std::nullopt;
    }
    return header.has_client ? Peer{header.client, peer.address, session} : peer;
}

std::unique_ptr<SessionRegistry> open_session_registry(const config::Config& c) {
    return open_in_runtime_dir(c, "sessions", "pop3d who and kick do not see these sessions",
                               [](const std::string& path, std::string* error) {
                                   return SessionRegistry::open(path, error);
                               });
}

// What runs as root, and when (scope: priv::Scope::process for pop3d -i
// and forked sessions, ::thread for the threaded daemon):
//   1. the daemon for its whole life: config, listening sockets, TLS
//      keys, runtime dir, the accept loop;
//   2. each connection, before login: the PROXY header, the TLS handshake,
//      POP3 commands up to a login, PAM (which needs root for shadow);
//   3. after PAM said yes, in SpoolOpener::open: the mailbox path, the
//      session lock and LOGIN-DELAY; then priv::become_user, after which
//      root is gone for this session (for good in a process; a thread keeps
//      uid 0 only so that users cannot signal it, with no capability left);
//   4. as the user, for the rest of the session: the mailbox, RETR, DELE,
//      the expunge; the mail group (saved gid) only inside a
//      mailbox::PrivilegeScope, around dotlock and expunge file operations.
// The session ends with its process or thread, so the user's credentials
// never serve another connection. Started without root, nothing switches.
void serve_connection(int in_fd, int out_fd, const ConnectionContext& connection) {
    const config::Config& c = *connection.config;
    const Peer& peer = connection.peer;
    const bool implicit_tls = connection.implicit_tls;
    SessionRegistry* const sessions = connection.sessions;
    const auth::ClientInfo client{peer.address};
    const log::ConnectionScope log_scope(peer);
    // Listed from here to the end, after the transport and the session are gone.
    const std::unique_ptr<SessionRegistry::Entry> listed = sessions ? sessions->enter(peer) : nullptr;
    if (sessions && !listed)
        log::write(log::event::not_listed, "every one of the " + std::to_string(SessionRegistry::kSlots) +
                                               " slots of the session registry is taken");
    net::FdTransport transport(in_fd, out_fd, std::chrono::seconds(c.idle_timeout), connection.tls,
                               std::chrono::seconds(c.login_timeout), peer.text());
    if (listed) transport.stop_also_when([entry = listed.get()] { return entry->kicked(); });
    transport.refuse_proxy_header();  // a header here comes from an untrusted address, or a second one
    auth::PamAuthenticator authenticator(c.pam_service, c.pam_confdir, c.max_username_length);
    SpoolOpener opener(c, connection.scope);
    SystemClock clock;
    log::write(log::event::connect, peer.text() + (implicit_tls ? " tls" : ""));
    if (implicit_tls && !transport.start_tls()) return;  // pop3s: TLS from the first byte (the transport logs why)
    session::Session session(transport, authenticator, opener, clock, session_settings(c, peer.address), client,
                             connection.throttle, peer);
    session.set_observer(listed.get());
    session.run();
}

}  // namespace pop3d::app
