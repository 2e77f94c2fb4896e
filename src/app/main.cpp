// pop3d: option parsing and the choice of launch mode. Only this file and
// net/ know how the process was started.
#include "app/control.hpp"
#include "app/daemon.hpp"
#include "app/host_throttle.hpp"
#include "app/self_check.hpp"
#include "app/serve.hpp"
#include "build_config.h"
#include "common/text.hpp"
#include "config/config.hpp"
#include "log/events.hpp"
#include "log/session_id.hpp"
#include "net/fd_transport.hpp"
#include "net/listener.hpp"
#include "net/stop_flag.hpp"
#include "net/systemd.hpp"
#include "session/responses.hpp"
#include "tls/tls.hpp"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace pop3d;

constexpr const char* kUsage =
    "usage: pop3d [-f] [-l ADDR[:PORT]]... [-c FILE] [-o KEY=VALUE]...    daemon\n"
    "       pop3d -i [-c FILE] [-o KEY=VALUE]...       one client on stdin/stdout\n"
    "       pop3d [-c FILE] [-o KEY=VALUE]... who | kick USER | unblock ADDR|all\n"
    "       pop3d -t | -T | -V | -h | --version | --help\n"
    "  -f            stay in the foreground and log to stderr too (systemd, tests)\n"
    "  -l ADDR[:PORT][/tls]  listen here (repeatable; [v6addr]:port, *:port;\n"
    "                /tls: pop3s); default *:110\n"
    "  -i            serve one client on stdin/stdout (inetd, systemd Accept=yes)\n"
    "  -c FILE       configuration file (default " POP3D_DEFAULT_CONFIG_FILE ")\n"
    "  -o KEY=VALUE  override one configuration key (repeatable)\n"
    "  -t            check the configuration and the setup, then exit 0 (good) or 1\n"
    "  -T            print the effective configuration and exit\n"
    "  -V, --version print the version and exit\n"
    "  -h, --help    print this help and exit\n"
    "Commands, for root, with the daemon's -c and -o (they read its runtime_dir):\n"
    "  who           list the live sessions: id, user, address, since, state, pid\n"
    "  kick USER     end USER's sessions (-ERR to the client, no deletions done)\n"
    "  unblock ADDR|all  forget ADDR's failed logins (IPv6: its /64), or all\n"
    "Started by systemd socket activation, pop3d serves the sockets it was given.\n";

// The GNU spellings admins try first; the same as -V and -h.
const option kLongOptions[] = {{"version", no_argument, nullptr, 'V'},
                               {"help", no_argument, nullptr, 'h'},
                               {nullptr, 0, nullptr, 0}};

enum class Mode { daemon, inetd, check, dump };

struct Options {
    Mode mode = Mode::daemon;
    bool foreground = false;
    bool version = false;
    std::vector<std::string> listen;
    app::ConfigSource source{POP3D_DEFAULT_CONFIG_FILE, false, {}};
};

// One client on in_fd/out_fd with a permanent drop after login (inetd, or
// systemd Accept=yes). Nothing may go to stderr: inetd puts the socket there.
int run_single(int in_fd, int out_fd, const config::LoadResult& loaded, bool implicit_tls) {
    // This process serves one connection: every line it logs is about it.
    const std::string session = log::new_session_id();
    const log::ConnectionScope scope(log::Connection{net::peer_address(in_fd), {}, session});
    auto refuse = [&] {
        if (!implicit_tls) {  // a TLS client would not understand it
            const std::string line = std::string(session::reply::kConfigError) + "\r\n";
            const ssize_t n = ::write(out_fd, line.data(), line.size());
            (void)n;
        }
        return 1;
    };
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) log::write(log::event::config_error, e.text());
        return refuse();
    }
    app::start_logging(loaded.config);
    for (const auto& w : loaded.warnings) log::write(log::event::config_warning, w.text());
    std::string tls_error;
    std::shared_ptr<tls::Context> tls = app::load_tls(loaded.config, tls_error);
    if ((loaded.config.tls_configured() || implicit_tls) && !tls) {
        log::write(log::event::tls_setup_failed,
                   tls_error.empty() ? "implicit_tls needs tls_cert and tls_key" : tls_error);
        return refuse();
    }
    net::install_signal_handlers();
    const auto throttle = app::HostThrottle::open(loaded.config);  // shared with the other inetd processes
    const auto sessions = app::open_session_registry(loaded.config);
    const std::optional<app::Peer> peer = app::identify_peer(in_fd, loaded.config, session);
    if (!peer) return 1;  // a trusted proxy sent no good PROXY header (logged)
    app::serve_connection(in_fd, out_fd,
                          {.config = std::make_shared<const config::Config>(loaded.config),
                           .peer = *peer,
                           .scope = priv::Scope::process,
                           .tls = std::move(tls),
                           .implicit_tls = implicit_tls,
                           .throttle = throttle.get(),
                           .sessions = sessions.get()});
    return 0;
}

void quiet_stderr() {
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return;
    ::dup2(devnull, STDERR_FILENO);
    if (devnull != STDERR_FILENO) ::close(devnull);
}

// fork, setsid, chdir /, stdio to /dev/null. Returns false in the parent
// (which should exit 0) and true in the daemon.
bool detach() {
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::cerr << "pop3d: fork: " << text::errno_text(errno) << "\n";
        std::exit(1);
    }
    if (pid > 0) return false;
    ::setsid();
    if (::chdir("/") != 0) std::exit(1);
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        for (int fd = 0; fd < 3; ++fd) ::dup2(devnull, fd);
        if (devnull > 2) ::close(devnull);
    }
    return true;
}

bool write_pid_file(const std::string& path) {
    if (path.empty()) return true;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        log::write(log::event::pid_file_failed, path + ": " + text::errno_text(errno));
        return false;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    const bool ok = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
    ::close(fd);
    return ok;
}

int run_standalone(Options& opt) {
    const std::vector<net::ActivatedFd> activated = net::take_activation_fds();
    config::LoadResult loaded = opt.source.load();
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) std::cerr << "pop3d: " << e.text() << "\n";
        return 1;
    }
    config::Config& c = loaded.config;
    if (!opt.foreground && activated.empty()) log::use_stderr();

    // systemd Accept=yes without StandardInput=socket: one connection on fd 3.
    if (activated.size() == 1 && !net::is_listening_socket(activated[0].fd)) {
        quiet_stderr();
        return run_single(activated[0].fd, activated[0].fd, loaded, c.implicit_tls || activated[0].name == "pop3s");
    }
    std::vector<net::ListenSocket> listeners;
    for (const net::ActivatedFd& a : activated) {
        if (!net::is_listening_socket(a.fd)) {
            std::cerr << "pop3d: fd " << a.fd << " from systemd is not a listening socket\n";
            return 1;
        }
        // FileDescriptorName=pop3s marks an implicit-TLS socket.
        listeners.push_back(net::adopt_listener(a.fd, a.name == "pop3s"));
    }
    if (listeners.empty()) {
        std::string error;
        listeners = net::bind_listeners(c.listen.value, error);
        if (listeners.empty()) {
            std::cerr << "pop3d: cannot listen: " << error << "\n";
            return 1;
        }
    }
    std::string tls_error;
    std::shared_ptr<tls::Context> tls = app::load_tls(c, tls_error);
    if (c.tls_configured() && !tls) {
        std::cerr << "pop3d: TLS: " << tls_error << "\n";
        return 1;
    }
    for (const net::ListenSocket& l : listeners) {
        if (l.tls && !tls) {
            std::cerr << "pop3d: " << l.name << " is an implicit-TLS listener, but no tls_cert and tls_key are set\n";
            return 1;
        }
    }
    net::install_signal_handlers();
    const bool detached = !opt.foreground && activated.empty();
    if (detached && !detach()) return 0;
    app::start_logging(c);
    log::also_stderr(opt.foreground);
    for (const auto& w : loaded.warnings) log::write(log::event::config_warning, w.text());
    if (detached) write_pid_file(c.pid_file);
    const std::string pid_file = detached ? c.pid_file : "";
    const int rc = app::run_daemon(std::move(listeners), opt.source, c, std::move(tls));
    if (!pid_file.empty()) ::unlink(pid_file.c_str());
    if (rc < 0) std::quick_exit(0);  // sessions still running: no static destructors under them
    return rc;
}

// Reads the options into opt, leaving optind at the first argument. An exit
// status when nothing is left to do (-h, or an unknown option).
std::optional<int> parse_options(int argc, char** argv, Options& opt) {
    int c;
    opterr = 0;
    while ((c = ::getopt_long(argc, argv, "ifl:c:o:tTVh", kLongOptions, nullptr)) != -1) {
        switch (c) {
        case 'i': opt.mode = Mode::inetd; break;
        case 'f': opt.foreground = true; break;
        case 'l': opt.listen.emplace_back(optarg); break;
        case 'c':
            opt.source.file = optarg;
            opt.source.file_required = true;
            break;
        case 'o': opt.source.overrides.emplace_back(optarg); break;
        case 't': opt.mode = Mode::check; break;
        case 'T': opt.mode = Mode::dump; break;
        case 'V': opt.version = true; break;
        case 'h': std::cout << kUsage; return 0;
        default:
            if (optopt == 0)  // a long option getopt_long does not know: name it as given
                std::cerr << "pop3d: unknown option: " << argv[optind - 1] << "\n" << kUsage;
            else
                std::cerr << "pop3d: unknown option or missing argument: -" << static_cast<char>(optopt) << "\n"
                          << kUsage;
            return 2;
        }
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (const std::optional<int> done = parse_options(argc, argv, opt)) return *done;
    if (opt.version) {
        std::cout << "pop3d " << POP3D_VERSION << " (TLS: " << tls::library_version() << ")\n";
        return 0;
    }
    if (optind < argc) {
        if (!app::is_control_command(argv[optind])) {
            std::cerr << "pop3d: unexpected argument '" << argv[optind] << "'\n" << kUsage;
            return 2;
        }
        if (opt.mode != Mode::daemon || opt.foreground || !opt.listen.empty()) {
            std::cerr << "pop3d: " << argv[optind] << " takes only -c and -o\n" << kUsage;
            return 2;
        }
        return app::run_control(opt.source, std::vector<std::string>(argv + optind, argv + argc), std::cout,
                                std::cerr);
    }
    if (!opt.listen.empty()) {  // -l wins over the listen key
        std::string all;
        for (const auto& l : opt.listen) all += (all.empty() ? "" : " ") + l;
        opt.source.overrides.push_back("listen=" + all);
    }

    switch (opt.mode) {
    case Mode::inetd:
        quiet_stderr();
        log::use_syslog(log::facility_from_name("mail"));
    {
        const config::LoadResult loaded = opt.source.load();
        return run_single(STDIN_FILENO, STDOUT_FILENO, loaded, loaded.config.implicit_tls);
    }
    case Mode::check: return app::run_self_check(opt.source, std::cout);
    case Mode::dump: {
        const config::LoadResult loaded = opt.source.load();
        for (const auto& e : loaded.errors) std::cerr << "error: " << e.text() << "\n";
        std::cout << config::dump(loaded.config);
        return loaded.ok() ? 0 : 1;
    }
    case Mode::daemon: return run_standalone(opt);
    }
    return 2;
}
