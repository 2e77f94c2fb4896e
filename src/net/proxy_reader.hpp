// Reads a PROXY header off a socket without reading a byte past it, so
// that what follows (POP3 commands, a TLS handshake) is left for the
// session. Non-blocking steps for the daemon's poll loop; a blocking form
// for inetd and systemd Accept=yes.
#pragma once

#include "net/proxy_header.hpp"

#include <chrono>
#include <string>

namespace pop3d::net {

class ProxyReader {
public:
    enum class Step { more, done, failed };
    // Takes what is there now; more: wait until fd is readable again.
    Step step(int fd);
    const ProxyHeader& header() const { return header_; }
    const std::string& error() const { return error_; }
    // Failed because the balancer hung up before sending a byte: what a
    // plain TCP health check does, not an error worth a warning.
    bool closed_before_header() const { return closed_early_; }

private:
    Step fail(std::string why);
    std::string buffer_;  // header bytes consumed so far
    ProxyHeader header_;
    std::string error_;
    bool closed_early_ = false;
};

// Waits up to `timeout` for the whole header. false: *error says why, and
// *closed_early whether the balancer hung up before its first byte.
bool read_proxy_header(int fd, std::chrono::milliseconds timeout, ProxyHeader& header, std::string* error,
                       bool* closed_early = nullptr);

}  // namespace pop3d::net
