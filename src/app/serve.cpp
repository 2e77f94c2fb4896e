#include "app/serve.hpp"

#include "app/spool_opener.hpp"
#include "auth/pam_authenticator.hpp"
#include "build_config.h"
#include "common/clock.hpp"
#include "log/log.hpp"
#include "net/fd_transport.hpp"

namespace pop3d::app {

session::SessionSettings session_settings(const config::Config& c) {
    session::SessionSettings s;
    s.idle_timeout = std::chrono::seconds(c.idle_timeout);
    s.login_timeout = std::chrono::seconds(c.login_timeout);
    s.login_fail_delay = std::chrono::seconds(c.login_fail_delay);
    s.max_auth_failures = c.max_auth_failures;
    s.max_command_errors = c.max_command_errors;
    s.max_username_length = c.max_username_length;
    s.implementation = std::string("pop3d-") + POP3D_VERSION;
    return s;
}

void start_logging(const config::Config& c) {
    if (!c.log_file.empty()) {
        std::string error;
        if (log::use_file(c.log_file, &error)) return;
        log::use_syslog(log::facility_from_name(c.log_facility));
        log::err("cannot open log_file " + error + "; logging to syslog");
        return;
    }
    log::use_syslog(log::facility_from_name(c.log_facility));
}

void serve_connection(int in_fd, int out_fd, const config::Config& c, priv::Scope scope, const std::string& peer) {
    const auth::ClientInfo client{peer};
    net::FdTransport transport(in_fd, out_fd, std::chrono::seconds(c.idle_timeout));
    auth::PamAuthenticator authenticator(c.pam_service, c.pam_confdir, c.max_username_length);
    SpoolOpener opener(c, scope);
    SystemClock clock;
    log::info("connect rip=" + (peer.empty() ? std::string("unknown") : peer));
    session::Session session(transport, authenticator, opener, clock, session_settings(c), client);
    session.run();
}

}  // namespace pop3d::app
