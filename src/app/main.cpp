// pop3d: option parsing and the choice of launch mode. Only this file and
// net/ know how the process was started.
#include "app/self_check.hpp"
#include "app/spool_opener.hpp"
#include "auth/pam_authenticator.hpp"
#include "build_config.h"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "log/log.hpp"
#include "net/fd_transport.hpp"
#include "net/stop_flag.hpp"
#include "session/session.hpp"

#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace pop3d;

constexpr const char* kUsage =
    "usage: pop3d [-i] [-c FILE] [-o KEY=VALUE]... [-t | -T | -V | -h]\n"
    "  -i            serve one client on stdin/stdout (inetd, systemd Accept=yes --inetd)\n"
    "  -c FILE       configuration file (default " POP3D_DEFAULT_CONFIG_FILE ")\n"
    "  -o KEY=VALUE  override one configuration key (repeatable)\n"
    "  -t            check the configuration and the setup, then exit 0 (good) or 1\n"
    "  -T            print the effective configuration and exit\n"
    "  -V            print the version and exit\n"
    "  -h            print this help and exit\n";

enum class Mode { standalone, inetd, check, dump };

struct Options {
    Mode mode = Mode::standalone;
    std::string config_file = POP3D_DEFAULT_CONFIG_FILE;
    bool config_file_given = false;
    std::vector<std::string> overrides;
};

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

// Logs go to the configured place: syslog (facility from the config) or a file.
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

int run_check(const config::LoadResult& loaded, const std::string& file) {
    bool ok = loaded.ok();
    for (const auto& e : loaded.errors) std::cerr << "error: " << e.text() << "\n";
    for (const auto& w : loaded.warnings) std::cerr << "warning: " << w.text() << "\n";
    if (ok) {
        const app::CheckReport r = app::check_setup(loaded.config);
        for (const auto& n : r.notes) std::cout << "ok: " << n << "\n";
        for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
        for (const auto& e : r.errors) std::cerr << "error: " << e << "\n";
        ok = r.errors.empty();
    }
    std::cout << (ok ? "configuration OK (" : "configuration has errors (") << file << ")\n";
    return ok ? 0 : 1;
}

int run_inetd(const config::LoadResult& loaded) {
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) log::err("configuration: " + e.text());
        static constexpr char kReply[] = "-ERR [SYS/PERM] server configuration error\r\n";
        const ssize_t n = ::write(STDOUT_FILENO, kReply, sizeof kReply - 1);
        (void)n;
        return 1;
    }
    const config::Config& c = loaded.config;
    start_logging(c);
    for (const auto& w : loaded.warnings) log::warning("configuration: " + w.text());
    net::install_signal_handlers();

    auth::ClientInfo client{net::peer_address(STDIN_FILENO)};
    net::FdTransport transport(STDIN_FILENO, STDOUT_FILENO, std::chrono::seconds(c.idle_timeout));
    auth::PamAuthenticator authenticator(c.pam_service, c.pam_confdir, c.max_username_length);
    app::DroppingSpoolOpener opener(c);
    SystemClock clock;
    log::info("connect rhost=" + (client.address.empty() ? std::string("unknown") : client.address));
    session::Session session(transport, authenticator, opener, clock, session_settings(c), client);
    session.run();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    bool want_version = false;
    int c;
    opterr = 0;
    while ((c = ::getopt(argc, argv, "ic:o:tTVh")) != -1) {
        switch (c) {
        case 'i': opt.mode = Mode::inetd; break;
        case 'c':
            opt.config_file = optarg;
            opt.config_file_given = true;
            break;
        case 'o': opt.overrides.emplace_back(optarg); break;
        case 't': opt.mode = Mode::check; break;
        case 'T': opt.mode = Mode::dump; break;
        case 'V': want_version = true; break;
        case 'h': std::cout << kUsage; return 0;
        default:
            std::cerr << "pop3d: unknown option -" << static_cast<char>(optopt ? optopt : '?') << "\n" << kUsage;
            return 2;
        }
    }
    if (want_version) {
        std::cout << "pop3d " << POP3D_VERSION << "\n";
        return 0;
    }
    if (optind < argc) {
        std::cerr << "pop3d: unexpected argument '" << argv[optind] << "'\n" << kUsage;
        return 2;
    }

    if (opt.mode == Mode::inetd) {
        // inetd puts the socket on fd 2 as well: nothing may ever be written
        // there, not even by a library.
        const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
            ::dup2(devnull, STDERR_FILENO);
            if (devnull != STDERR_FILENO) ::close(devnull);
        }
        log::use_syslog(log::facility_from_name("mail"));
    }

    const config::LoadResult loaded = config::load(opt.config_file, opt.config_file_given, opt.overrides);
    switch (opt.mode) {
    case Mode::check: return run_check(loaded, opt.config_file);
    case Mode::dump:
        for (const auto& e : loaded.errors) std::cerr << "error: " << e.text() << "\n";
        std::cout << config::dump(loaded.config);
        return loaded.ok() ? 0 : 1;
    case Mode::inetd: return run_inetd(loaded);
    case Mode::standalone:
        std::cerr << "pop3d: the standalone daemon is not available in this version; "
                     "run pop3d -i from inetd or systemd (see pop3d(8))\n";
        return 2;
    }
    return 2;
}
