#include "app/daemon.hpp"

#include "app/host_throttle.hpp"
#include "app/serve.hpp"
#include "auth/pam_authenticator.hpp"
#include "common/text.hpp"
#include "common/unique_fd.hpp"
#include "log/events.hpp"
#include "log/session_id.hpp"
#include "net/address_key.hpp"
#include "net/connection_table.hpp"
#include "net/fd_transport.hpp"
#include "net/proxy_reader.hpp"
#include "net/stop_flag.hpp"
#include "net/systemd.hpp"
#include "session/responses.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

namespace pop3d::app {

namespace {

using Clock = std::chrono::steady_clock;


// At most one line per key every 10 s; the rest are counted and reported.
class RateLimitedLog {
public:
    void write(const std::string& key, const log::Event& event, const std::string& rest) {
        std::lock_guard lock(mutex_);
        Entry& e = entries_[key];
        const auto now = Clock::now();
        if (e.last.time_since_epoch().count() != 0 && now - e.last < std::chrono::seconds(10)) {
            ++e.suppressed;
            return;
        }
        std::string text = rest;
        if (e.suppressed > 0) text += " (" + std::to_string(e.suppressed) + " more like this suppressed)";
        e.last = now;
        e.suppressed = 0;
        log::write(event, text);
    }

private:
    struct Entry {
        Clock::time_point last{};
        unsigned long suppressed = 0;
    };
    std::mutex mutex_;
    std::map<std::string, Entry> entries_;
};

// A connection from a trusted load balancer whose PROXY header has not all
// come yet. It counts against max_connections under the balancer's
// address, with no per-address limit until the header names the client.
struct PendingProxy {
    UniqueFd fd;
    std::string proxy;
    std::string session;
    bool implicit_tls;
    Clock::time_point deadline;
    net::ProxyReader reader;
};

class StartBlocks;

// What a session thread owns; handed over through pthread_create's void*.
struct ThreadStart {
    UniqueFd fd;
    ConnectionContext connection;
    net::ConnectionTable* table;
    StartBlocks* blocks;
};

// The heap blocks ThreadStarts are handed over in, reused. A session
// thread moves its ThreadStart onto its stack and gives the block back:
// freed there, it would wait unused in that thread's malloc cache for as
// long as the session lasts (an idle connection's memory).
class StartBlocks {
public:
    StartBlocks() { spare_.reserve(kMostSpare); }  // give_back never allocates
    std::unique_ptr<ThreadStart> take(ThreadStart contents) {
        {
            std::lock_guard lock(mutex_);
            if (!spare_.empty()) {
                std::unique_ptr<ThreadStart> block = std::move(spare_.back());
                spare_.pop_back();
                *block = std::move(contents);
                return block;
            }
        }
        return std::make_unique<ThreadStart>(std::move(contents));
    }
    void give_back(std::unique_ptr<ThreadStart> block) {
        std::lock_guard lock(mutex_);
        if (spare_.size() < kMostSpare) spare_.push_back(std::move(block));
    }

private:
    static constexpr std::size_t kMostSpare = 64;
    std::mutex mutex_;
    std::vector<std::unique_ptr<ThreadStart>> spare_;
};

// What the daemon starts from, named (Daemon lives on the heap: see run_daemon).
struct DaemonStart {
    std::vector<net::ListenSocket> listeners;
    const ConfigSource& source;
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<tls::Context> tls;
};

struct Daemon {
    explicit Daemon(DaemonStart start)
        : listeners(std::move(start.listeners)),
          source(start.source),
          config(std::move(start.config)),
          tls(std::move(start.tls)) {}
    std::vector<net::ListenSocket> listeners;
    const ConfigSource& source;
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<tls::Context> tls;  // for new connections; replaced on SIGHUP
    std::unique_ptr<HostThrottle> throttle{};  // failed logins per address and login slots, shared with every session
    std::unique_ptr<SessionRegistry> sessions{};  // the live sessions, for pop3d who and kick
    net::ConnectionTable table{};
    StartBlocks start_blocks{};
    RateLimitedLog limited{};
    std::map<pid_t, Peer> children{};  // fork model: pid -> its client
    std::vector<std::unique_ptr<PendingProxy>> pending{};  // waiting for their PROXY header
    Clock::time_point accept_paused_until{};
    std::size_t last_status_count = static_cast<std::size_t>(-1);
};

// What a connection carries to its session: the daemon's config, TLS,
// throttle and registry as they are now.
ConnectionContext context_for(const Daemon& d, const Peer& peer, bool implicit_tls, priv::Scope scope) {
    return {.config = d.config,
            .peer = peer,
            .scope = scope,
            .tls = d.tls,
            .implicit_tls = implicit_tls,
            .throttle = d.throttle.get(),
            .sessions = d.sessions.get()};
}

extern "C" void* session_thread(void* arg) noexcept {
    ThreadStart start = [arg] {
        std::unique_ptr<ThreadStart> handed(static_cast<ThreadStart*>(arg));
        ThreadStart moved = std::move(*handed);
        moved.blocks->give_back(std::move(handed));
        return moved;
    }();
    const Peer& peer = start.connection.peer;
    const log::ConnectionScope scope(peer);
    try {
        serve_connection(start.fd.get(), start.fd.get(), start.connection);
    } catch (const std::exception& e) {
        log::write(log::event::session_aborted, peer.text() + ": " + e.what());
    } catch (...) {
        log::write(log::event::session_aborted, peer.text());
    }
    start.fd.reset();
    start.table->release(peer.address);
    return nullptr;
}

// reply: a line of session/responses.hpp (without CRLF).
void refuse(int fd, std::string_view reply) {
    const std::string line = std::string(reply) + "\r\n";
    const ssize_t n = ::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
}

bool start_thread(Daemon& d, UniqueFd fd, const Peer& peer, bool implicit_tls) {
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ::pthread_attr_setstacksize(&attr, d.config->thread_stack_size);
    const int raw_fd = fd.get();
    auto start = d.start_blocks.take(ThreadStart{.fd = std::move(fd),
                                                 .connection = context_for(d, peer, implicit_tls, priv::Scope::thread),
                                                 .table = &d.table,
                                                 .blocks = &d.start_blocks});
    pthread_t thread;
    const int rc = ::pthread_create(&thread, &attr, session_thread, start.get());
    ::pthread_attr_destroy(&attr);
    if (rc != 0) {
        refuse(raw_fd, session::reply::kServerBusy);
        d.limited.write("thread", log::event::not_started,
                        peer.text() + ": cannot start a session thread: " + text::errno_text(rc));
        return false;  // start (and the fd) are released here
    }
    start.release();  // the thread owns it now
    return true;
}

bool start_process(Daemon& d, UniqueFd fd, const Peer& peer, bool implicit_tls) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        refuse(fd.get(), session::reply::kServerBusy);
        d.limited.write("fork", log::event::not_started,
                        peer.text() + ": cannot fork a session process: " + text::errno_text(e));
        return false;
    }
    if (pid == 0) {
        for (net::ListenSocket& l : d.listeners) l.fd.reset();
        d.pending.clear();
        net::reset_after_fork();
        try {
            serve_connection(fd.get(), fd.get(), context_for(d, peer, implicit_tls, priv::Scope::process));
        } catch (const std::exception& e) {
            log::write(log::event::session_aborted, peer.text() + ": " + e.what());
            ::_exit(1);
        }
        // _exit: the atexit handlers and library destructors inherited from
        // the daemon are the daemon's (they would remove its files).
        ::_exit(0);
    }
    d.children[pid] = peer;
    return true;
}

void reap_children(Daemon& d) {
    for (;;) {
        int status;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        const auto it = d.children.find(pid);
        if (it == d.children.end()) continue;
        // A session process ends with status 0; anything else is a bug or a kill worth a line.
        const log::ConnectionScope scope(it->second);
        const std::string who = it->second.text() + " pid=" + std::to_string(pid);
        if (WIFSIGNALED(status))
            log::write(log::event::session_process_failed,
                       who + ": killed by signal " + std::to_string(WTERMSIG(status)));
        else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            log::write(log::event::session_process_failed,
                       who + ": exit status " + std::to_string(WEXITSTATUS(status)));
        d.table.release(it->second.address);
        d.children.erase(it);
    }
}

// Refuses, with a reply and a log line, a connection over a limit.
bool admit_or_refuse(Daemon& d, int fd, const std::string& address, net::ConnectionTable::Admit admitted) {
    const config::Config& c = *d.config;
    switch (admitted) {
    case net::ConnectionTable::Admit::too_many:
        refuse(fd, session::reply::kTooManyConnections);
        d.limited.write("max_connections", log::event::refused,
                        log::rip_field(address) + " reason=max_connections (" + std::to_string(c.max_connections) + ")");
        return false;
    case net::ConnectionTable::Admit::too_many_from_address:
        refuse(fd, session::reply::kTooManyFromAddress);
        // One log key per /64, as the limit counts: rotating addresses cannot grow the map.
        d.limited.write("per_address " + net::address_key_text(address), log::event::refused,
                        log::rip_field(address) + " reason=max_connections_per_address (" +
                            std::to_string(c.max_connections_per_address) + ")");
        return false;
    case net::ConnectionTable::Admit::ok:
        break;
    }
    return true;
}

// Hands an admitted connection to a session thread or process.
void start_session(Daemon& d, UniqueFd fd, const Peer& peer, bool implicit_tls) {
    const bool started = d.config->threads() ? start_thread(d, std::move(fd), peer, implicit_tls)
                                             : start_process(d, std::move(fd), peer, implicit_tls);
    if (!started) d.table.release(peer.address);
}

void accept_all(Daemon& d, int listen_fd, bool implicit_tls) {
    for (;;) {
        UniqueFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd) {
            const int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) return;
            if (e == ECONNABORTED || e == EPROTO || e == ENETDOWN || e == ENOPROTOOPT || e == EHOSTDOWN ||
                e == ENONET || e == EHOSTUNREACH || e == EOPNOTSUPP || e == ENETUNREACH)
                continue;
            // EMFILE, ENFILE, ENOBUFS, ENOMEM...: never spin, back off.
            d.limited.write("accept", log::event::accept_failed, text::errno_text(e) + "; pausing new connections");
            d.accept_paused_until = Clock::now() + std::chrono::milliseconds(500);
            return;
        }
        // The address first, then whether it is gone: a reset between two
        // looks (a health check) must not leave a session with no address.
        const std::string address = net::peer_address(fd.get());
        if (address.empty() && net::peer_gone(fd.get())) continue;  // reset before we got to it: nothing to serve
        // From here on, every line about this connection carries its session id.
        const Peer peer{address, {}, log::new_session_id()};
        const log::ConnectionScope scope(peer);
        const config::Config& c = *d.config;
        const bool proxied = from_trusted_proxy(c, address);
        // A balancer's connections are limited per client once its header
        // names one; until then only the total applies.
        const auto admitted = d.table.admit(address, c.max_connections,
                                            proxied ? static_cast<std::size_t>(-1) : c.max_connections_per_address);
        if (!admit_or_refuse(d, fd.get(), address, admitted)) continue;
        if (proxied) {
            d.pending.push_back(std::make_unique<PendingProxy>(
                PendingProxy{.fd = std::move(fd),
                             .proxy = address,
                             .session = peer.session,
                             .implicit_tls = implicit_tls,
                             .deadline = Clock::now() + std::chrono::seconds(c.proxy_timeout),
                             .reader = {}}));
            continue;
        }
        start_session(d, std::move(fd), peer, implicit_tls);
    }
}

// Reads what has come of a pending PROXY header; starts the session once it
// is whole. false: the connection is finished with (started or closed).
bool advance_pending(Daemon& d, PendingProxy& p, bool readable) {
    net::ProxyReader::Step step = net::ProxyReader::Step::more;
    if (readable) step = p.reader.step(p.fd.get());
    if (step == net::ProxyReader::Step::more && Clock::now() < p.deadline) return true;
    const Peer waiting{{}, p.proxy, p.session};  // the client is not known yet
    const log::ConnectionScope scope(waiting);
    if (step == net::ProxyReader::Step::failed && p.reader.closed_before_header()) {
        log::write(log::event::proxy_missing, waiting.text() + ": closed before sending it (a health check?)");
        d.table.release(p.proxy);
        return false;
    }
    if (step != net::ProxyReader::Step::done) {
        const std::string why =
            step == net::ProxyReader::Step::failed
                ? p.reader.error()
                : "no complete PROXY header within " + std::to_string(d.config->proxy_timeout) + " s";
        d.limited.write("proxy " + p.proxy + " " + why, log::event::proxy_refused,
                        waiting.text() + ": " + why + "; connection closed");
        d.table.release(p.proxy);
        return false;
    }
    const net::ProxyHeader& h = p.reader.header();
    if (!h.has_client) {  // the balancer's own connection (a health check)
        start_session(d, std::move(p.fd), Peer{p.proxy, {}, p.session}, p.implicit_tls);
        return false;
    }
    const Peer peer{h.client, p.proxy, p.session};
    const log::ConnectionScope named(peer);
    const auto admitted = d.table.transfer(p.proxy, peer.address, d.config->max_connections_per_address);
    if (admitted != net::ConnectionTable::Admit::ok) {
        refuse(p.fd.get(), session::reply::kTooManyFromAddress);
        d.limited.write("per_address " + net::address_key_text(peer.address), log::event::refused,
                        peer.text() + " reason=max_connections_per_address (" +
                            std::to_string(d.config->max_connections_per_address) + ")");
        return false;
    }
    start_session(d, std::move(p.fd), peer, p.implicit_tls);
    return false;
}

void reload(Daemon& d) {
    const config::LoadResult loaded = d.source.load();
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) log::write(log::event::reload_error, e.text());
        log::write(log::event::reload_failed);
        return;
    }
    if (loaded.config.listen.text != d.config->listen.text || loaded.config.process_model != d.config->process_model)
        log::write(log::event::reload_needs_restart);
    std::string tls_error;
    std::shared_ptr<tls::Context> tls = load_tls(loaded.config, tls_error);
    if (loaded.config.tls_configured() && !tls) {
        log::write(log::event::reload_tls_failed, tls_error + "; keeping the previous configuration");
        return;
    }
    if (d.tls && !tls) {
        log::write(log::event::reload_tls_off);
        return;
    }
    auto next = std::make_shared<config::Config>(loaded.config);
    next->listen = d.config->listen;
    next->process_model = d.config->process_model;
    start_logging(*next);
    d.config = std::move(next);
    d.tls = std::move(tls);
    if (d.throttle) d.throttle->reconfigure(*d.config);
    log::write(log::event::reloaded, d.source.file + "; it applies to new connections");
}

void update_status(Daemon& d) {
    const std::size_t n = d.table.count();
    if (n == d.last_status_count) return;
    d.last_status_count = n;
    net::notify("STATUS=" + text::count(n, "connection"));
}

// The accept loop: connections, PROXY headers, reloads, until SIGTERM/SIGINT
// (or poll fails).
void serve_until_stopped(Daemon& d) {
    while (!net::stop_requested()) {
        std::vector<pollfd> fds;
        fds.push_back({net::stop_fd(), POLLIN, 0});
        fds.push_back({net::reload_fd(), POLLIN, 0});
        const bool paused = Clock::now() < d.accept_paused_until;
        const std::size_t first_listener = fds.size();
        if (!paused)
            for (const auto& l : d.listeners) fds.push_back({l.fd.get(), POLLIN, 0});
        const std::size_t first_pending = fds.size();
        for (const auto& p : d.pending) fds.push_back({p->fd.get(), POLLIN, 0});
        int timeout = paused ? 100 : (d.children.empty() ? 1000 : 200);
        if (!d.pending.empty()) timeout = std::min(timeout, 100);  // PROXY header deadlines
        const int rc = ::poll(fds.data(), fds.size(), timeout);
        if (rc < 0 && errno != EINTR) {
            log::write(log::event::poll_failed, text::errno_text(errno));
            break;
        }
        if (!d.children.empty()) reap_children(d);
        if (net::stop_requested()) break;
        if (net::take_reload_request()) reload(d);
        // Pending headers first: the accepts below may add to the list.
        std::vector<std::unique_ptr<PendingProxy>> still;
        for (std::size_t i = 0; i < d.pending.size(); ++i) {
            const bool readable = rc > 0 && (fds[first_pending + i].revents & (POLLIN | POLLHUP | POLLERR));
            if (advance_pending(d, *d.pending[i], readable)) still.push_back(std::move(d.pending[i]));
        }
        d.pending = std::move(still);
        for (std::size_t i = first_listener; i < first_pending; ++i)
            if (fds[i].revents & POLLIN) accept_all(d, fds[i].fd, d.listeners[i - first_listener].tls);
        update_status(d);
    }
}

// Shutdown: no new connections; sessions end at their next command. -1 when
// some are still running after the grace period.
int shut_down(Daemon& d) {
    net::notify("STOPPING=1");
    d.listeners.clear();
    for (const auto& p : d.pending) {
        if (!p->implicit_tls) refuse(p->fd.get(), session::reply::kShuttingDown);  // what a session says when stopped
        d.table.release(p->proxy);
    }
    d.pending.clear();
    const std::size_t running = d.table.count();
    log::write(log::event::shutting_down, "waiting up to " + std::to_string(d.config->shutdown_grace) + " s for " +
                                              text::count(running, "session"));
    for (const auto& [pid, peer] : d.children) ::kill(pid, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(d.config->shutdown_grace);
    if (d.config->threads()) {
        d.table.wait_empty(deadline);
    } else {
        while (!d.children.empty() && Clock::now() < deadline) {
            reap_children(d);
            if (!d.children.empty()) ::usleep(50 * 1000);
        }
    }
    const std::size_t left = d.table.count();
    if (left > 0) {
        log::write(log::event::grace_over, text::count(left, "session") + " still running; exiting");
        return -1;  // caller must not run static destructors under running threads
    }
    log::write(log::event::stopped);
    return 0;
}

}  // namespace

int run_daemon(std::vector<net::ListenSocket> listeners, const ConfigSource& source, config::Config initial,
               std::shared_ptr<tls::Context> tls) {
    // Load the NSS modules once before any session thread needs them.
    auth::Account warm;
    auth::lookup_account("root", warm);
    priv::lookup_group(initial.mail_group);

    // On the heap: when sessions outlive the grace period it must outlive them.
    auto owned = std::make_unique<Daemon>(DaemonStart{.listeners = std::move(listeners),
                                                      .source = source,
                                                      .config = std::make_shared<const config::Config>(std::move(initial)),
                                                      .tls = std::move(tls)});
    Daemon& d = *owned;
    d.throttle = HostThrottle::open(*d.config);
    d.sessions = open_session_registry(*d.config);
    std::string names;
    for (const auto& l : d.listeners) names += (names.empty() ? "" : " ") + l.name;
    log::write(log::event::listening, names + " (" + std::string(config::name(d.config->process_model)) + ", max " +
                                          text::count(d.config->max_connections, "connection") + ")");
    net::notify("READY=1");
    update_status(d);

    serve_until_stopped(d);
    const int rc = shut_down(d);
    // Session threads still running hold raw pointers to the throttle, the
    // registry (shared mappings) and the connection table: freeing them
    // under the threads would be a use after unmap. The caller ends the
    // process (quick_exit) without freeing anything, so neither do we.
    if (rc < 0) (void)owned.release();
    return rc;
}

}  // namespace pop3d::app
