// Transport over a pair of file descriptors (a socket on 0 and 1 under
// inetd, or one connected socket). Reads wait with poll(); writes are
// non-blocking with a send timeout, so a client that stops reading cannot
// hold the session forever.
#pragma once

#include "session/transport.hpp"

#include <chrono>

namespace pop3d::net {

class FdTransport final : public session::Transport {
public:
    FdTransport(int in_fd, int out_fd, std::chrono::milliseconds send_timeout);
    session::ReadResult read(char* buf, std::size_t len, std::chrono::milliseconds timeout) override;
    bool write(const char* data, std::size_t len) override;

private:
    int in_;
    int out_;
    std::chrono::milliseconds send_timeout_;
};

// Numeric address of the peer of fd ("192.0.2.1", "2001:db8::1"), or "" when
// fd is not a connected socket.
std::string peer_address(int fd);

}  // namespace pop3d::net
