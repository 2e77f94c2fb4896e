#include "net/fd_transport.hpp"

#include "common/stack.hpp"
#include "log/events.hpp"
#include "net/address_key.hpp"
#include "net/proxy_header.hpp"
#include "net/stop_flag.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>

namespace pop3d::net {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {
constexpr std::size_t kIdleStackMargin = 256;
}  // namespace

FdTransport::FdTransport(int in_fd, int out_fd, milliseconds send_timeout, std::shared_ptr<tls::Context> tls,
                         milliseconds handshake_timeout, std::string peer)
    : in_(in_fd),
      out_(out_fd),
      send_timeout_(send_timeout),
      tls_(std::move(tls)),
      handshake_timeout_(handshake_timeout),
      peer_(peer.empty() ? log::rip_field({}) : std::move(peer)) {
    ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
    if (tls_) ::fcntl(in_, F_SETFL, ::fcntl(in_, F_GETFL) | O_NONBLOCK);
}

int FdTransport::wait_for(int fd, short events, steady_clock::time_point deadline) const {
    // Inside the wait, and only there, the wake signal may come in (see stop_flag.hpp).
    sigset_t open_to_wake;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &open_to_wake);
    sigdelset(&open_to_wake, kWakeSignal);
    for (;;) {
        if (stopping()) return -2;
        const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
        if (left.count() <= 0) return 0;
        const auto wait = std::min<long long>(left.count(), 1 << 30);
        const timespec ts{static_cast<time_t>(wait / 1000), static_cast<long>(wait % 1000) * 1000000};
        pollfd p[2] = {{fd, events, 0}, {stop_fd(), POLLIN, 0}};
        const int rc = ::ppoll(p, stop_fd() >= 0 ? 2 : 1, &ts, &open_to_wake);
        if (rc < 0 && errno != EINTR) return -1;
        if (rc > 0 && p[0].revents != 0 && !stopping()) return 1;
    }
}

namespace {

// wait_for's answer as a read result when it is not "ready" (1): nullopt then.
std::optional<session::ReadResult> unless_ready(int w) {
    if (w == 0) return session::ReadResult{session::ReadStatus::timeout};
    if (w == -2) return session::ReadResult{session::ReadStatus::stopped};
    if (w < 0) return session::ReadResult{session::ReadStatus::error};
    return std::nullopt;
}

}  // namespace

FdTransport::~FdTransport() {
    if (stream_) stream_->close_notify();  // RFC 8314 §3.4: TLS closes before TCP
}

session::ReadResult FdTransport::read(char* buf, std::size_t len, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        if (stream_) {
            std::size_t got = 0;
            switch (stream_->read(buf, len, got)) {
            case tls::Io::ok: return {session::ReadStatus::data, got};
            case tls::Io::eof: return {session::ReadStatus::eof};
            case tls::Io::error: return {session::ReadStatus::error};
            case tls::Io::want_write:
                if (const auto r = unless_ready(wait_for(out_, POLLOUT, deadline))) return *r;
                continue;
            case tls::Io::want_read: break;
            }
        }
        // A pipelining client's next command is often here already: one
        // recv, and no wait, takes it (a socket only; inetd may pass a pipe).
        ssize_t n = -1;
        if (!stream_ && in_is_socket_) {
            n = ::recv(in_, buf, len, MSG_DONTWAIT);
            if (n < 0 && errno == ENOTSOCK) in_is_socket_ = false;
        }
        if (n < 0) {
            if (const auto r = unless_ready(wait_for(in_, POLLIN, deadline))) return *r;
            if (stream_) continue;
            n = ::read(in_, buf, len);
        }
        if (n > 0 && !first_read_done_) {
            first_read_done_ = true;
            if (refuse_proxy_header_ && looks_like_proxy_header(std::string_view(buf, static_cast<std::size_t>(n)))) {
                log::write(log::event::proxy_refused,
                           peer_ + ": not sent by an address in proxy_trusted; connection closed");
                return {session::ReadStatus::eof};
            }
        }
        if (n > 0) return {session::ReadStatus::data, static_cast<std::size_t>(n)};
        if (n == 0) return {session::ReadStatus::eof};
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return {errno == ECONNRESET ? session::ReadStatus::eof : session::ReadStatus::error};
    }
}

bool FdTransport::readable_within(milliseconds wait) {
    return wait_for(in_, POLLIN, steady_clock::now() + wait) == 1;
}

void FdTransport::idle_wait(milliseconds timeout) {
    // An idle session thread then holds two stack pages (its thread block
    // and the frames down to this wait) instead of all the last command or
    // log line touched. The margin covers the frames down to ppoll. Not a
    // process's main thread (pop3d -i, a forked session): glibc finds its
    // stack in /proc/self/maps, and the buffers of that read would dirty
    // heap pages a forked session still shares with the daemon.
    if (::gettid() != ::getpid()) release_unused_stack(kIdleStackMargin);
    if (stream_) return;  // decrypted bytes may wait in the TLS stream, unseen by poll
    wait_for(in_, POLLIN, steady_clock::now() + timeout);
}

bool FdTransport::write(const char* data, std::size_t len) {
    return stream_ ? write_tls(data, len) : write_plain(data, len);
}

bool FdTransport::stopping() const { return stop_requested() || kicked(); }

steady_clock::time_point FdTransport::send_deadline() const {
    return steady_clock::now() + std::min(send_timeout_, std::max(send_limit_, milliseconds(0)));
}

namespace {

// Waits for `events` until deadline; a shutdown does not cut a reply short.
bool wait_writable(int fd, short events, steady_clock::time_point deadline) {
    pollfd p{fd, events, 0};
    const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return false;
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    return rc >= 0 || errno == EINTR;
}

}  // namespace

bool FdTransport::write_plain(const char* data, std::size_t len) {
    const auto deadline = send_deadline();
    while (len > 0) {
        const ssize_t n = ::write(out_, data, len);
        if (n > 0) {
            data += n;
            len -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_writable(out_, POLLOUT, deadline)) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool FdTransport::write_tls(const char* data, std::size_t len) {
    const auto deadline = send_deadline();
    while (len > 0) {
        std::size_t written = 0;
        switch (stream_->write(data, len, written)) {
        case tls::Io::ok:
            data += written;
            len -= written;
            break;
        case tls::Io::want_write:
            if (!wait_writable(out_, POLLOUT, deadline)) return false;
            break;
        case tls::Io::want_read:
            if (!wait_writable(in_, POLLIN, deadline)) return false;
            break;
        default: return false;
        }
    }
    return true;
}

bool FdTransport::start_tls() {
    if (!tls_startable()) return false;
    stream_ = tls::new_stream(*tls_, in_);
    if (!stream_) {
        log::write(log::event::tls_failed, peer_ + ": cannot create a TLS connection");
        return false;
    }
    const auto deadline = steady_clock::now() + handshake_timeout_;
    for (;;) {
        int w;
        switch (stream_->handshake()) {
        case tls::Io::ok:
            log::write(log::event::tls, peer_ + " " + stream_->description());
            return true;
        case tls::Io::want_read: w = wait_for(in_, POLLIN, deadline); break;
        case tls::Io::want_write: w = wait_for(out_, POLLOUT, deadline); break;
        default: w = -1; break;
        }
        if (w <= 0) {
            std::string why = w == 0 ? "timed out" : w == -2 ? "shutdown" : stream_->last_error();
            log::write(log::event::tls_handshake_failed, peer_ + ": " + (why.empty() ? "closed" : why));
            stream_.reset();
            return false;
        }
    }
}

bool peer_gone(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 && errno == ENOTCONN;
}

std::string peer_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
    return socket_address_text(reinterpret_cast<const sockaddr*>(&ss), len);
}

}  // namespace pop3d::net
