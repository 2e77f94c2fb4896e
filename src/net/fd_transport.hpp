// Transport over a pair of file descriptors (a socket on 0 and 1 under
// inetd, or one connected socket), optionally switched to TLS. Reads wait
// with poll() and wake up for a shutdown; writes are non-blocking with a send
// timeout, so a client that stops reading cannot hold the session forever.
#pragma once

#include "session/transport.hpp"
#include "tls/tls.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace pop3d::net {

class FdTransport final : public session::Transport {
public:
    // tls: the context for STLS or implicit TLS (nullptr: plaintext only).
    // handshake_timeout bounds a TLS handshake. peer: who the log lines
    // name ("rip=A" or "rip=A proxy=P").
    FdTransport(int in_fd, int out_fd, std::chrono::milliseconds send_timeout,
                std::shared_ptr<tls::Context> tls = nullptr,
                std::chrono::milliseconds handshake_timeout = std::chrono::seconds(60), std::string peer = {});
    ~FdTransport() override;
    FdTransport(const FdTransport&) = delete;
    FdTransport& operator=(const FdTransport&) = delete;

    session::ReadResult read(char* buf, std::size_t len, std::chrono::milliseconds timeout) override;
    bool readable_within(std::chrono::milliseconds wait) override;
    void idle_wait(std::chrono::milliseconds timeout) override;
    bool write(const char* data, std::size_t len) override;
    bool stopping() const override;
    bool kicked() const override { return kicked_ && kicked_(); }
    // The session also stops, at its next command boundary, once `kicked`
    // says so (pop3d kick). It is asked before each wait and whenever a
    // wait is cut short by net::kWakeSignal.
    void stop_also_when(std::function<bool()> kicked) { kicked_ = std::move(kicked); }
    void limit_send_time(std::chrono::milliseconds most) override { send_limit_ = most; }
    bool tls_active() const override { return stream_ != nullptr; }
    bool tls_startable() const override { return tls_ != nullptr && stream_ == nullptr; }
    // The handshake; logs the outcome (protocol and cipher, or why it failed).
    bool start_tls() override;
    // Ends the connection, with a log line, if the client's first bytes are
    // a PROXY header: one not read by identify_peer or the daemon came
    // from an address not in proxy_trusted (or is a second header).
    void refuse_proxy_header() { refuse_proxy_header_ = true; }

private:
    // Waits for `events` on fd until deadline, waking up for a stop or a
    // kick. Returns 1 ready, 0 timeout, -1 error, -2 stop.
    int wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) const;
    std::chrono::steady_clock::time_point send_deadline() const;
    bool write_plain(const char* data, std::size_t len);
    bool write_tls(const char* data, std::size_t len);

    int in_;
    int out_;
    std::chrono::milliseconds send_timeout_;
    std::chrono::milliseconds send_limit_ = std::chrono::milliseconds::max();
    std::shared_ptr<tls::Context> tls_;
    std::chrono::milliseconds handshake_timeout_;
    std::unique_ptr<tls::Stream> stream_;
    std::string peer_;  // for the log: "rip=A"
    bool refuse_proxy_header_ = false;
    bool first_read_done_ = false;
    bool in_is_socket_ = true;  // until recv says ENOTSOCK
    std::function<bool()> kicked_;
};

// Numeric address of the peer of fd ("192.0.2.1", "2001:db8::1", "fe80::2"
// without its zone: net::plain_address), or "" when fd is not a connected socket.
std::string peer_address(int fd);
// Whether the connection on fd was already closed by its peer, reset before
// it was served (what a load balancer's TCP health check does).
bool peer_gone(int fd);

}  // namespace pop3d::net
