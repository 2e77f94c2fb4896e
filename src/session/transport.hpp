// The byte stream a session talks over. The engine knows nothing else about
// sockets: fds, TLS and tests' in-memory pipes all sit behind this.
#pragma once

#include <chrono>
#include <cstddef>

namespace pop3d::session {

enum class ReadStatus { data, eof, timeout, error, stopped };

struct ReadResult {
    ReadStatus status;
    std::size_t bytes = 0;  // when status == data
};

class Transport {
public:
    virtual ~Transport() = default;
    // Waits at most `timeout` for some bytes. `stopped` means the daemon is
    // shutting down, or the session was kicked, and the session should end
    // at this command boundary.
    virtual ReadResult read(char* buf, std::size_t len, std::chrono::milliseconds timeout) = 0;
    // Whether bytes from the client are there, or come, within `wait`
    // (false also when unsure: the caller then just waits in read()).
    virtual bool readable_within(std::chrono::milliseconds /*wait*/) { return false; }
    // The client has been quiet a while: waits, holding no buffer of the
    // caller's, until read() would not block, `timeout` is up or a stop
    // comes; read() then says which. Gives back first what the wait does
    // not need (stack pages the last commands touched). A transport that
    // cannot tell (TLS may hold decrypted bytes) returns at once.
    virtual void idle_wait(std::chrono::milliseconds /*timeout*/) {}
    // Writes everything or fails (peer gone, send timeout).
    virtual bool write(const char* data, std::size_t len) = 0;
    // Whether the daemon is shutting down or the session was kicked:
    // checked before each command, so that commands the client pipelined
    // are not run once a stop came.
    virtual bool stopping() const { return false; }
    // Whether the stop is the administrator's for this session alone
    // (pop3d kick) rather than the daemon's shutdown: the client is told which.
    virtual bool kicked() const { return false; }
    // Writes from now on give up after `most` at the latest, when that is
    // shorter than the send timeout (milliseconds::max(): the send timeout
    // alone). Before login the session keeps it at what is left of the
    // login deadline, so a client that never reads is not kept longer.
    virtual void limit_send_time(std::chrono::milliseconds /*most*/) {}

    // TLS (RFC 2595 STLS): whether the stream is encrypted now, whether it
    // can be switched to TLS, and the switch itself (the handshake, right
    // after the +OK). Plain transports say no.
    virtual bool tls_active() const { return false; }
    virtual bool tls_startable() const { return false; }
    virtual bool start_tls() { return false; }
};

}  // namespace pop3d::session
