// A maildrop as a session sees it: a numbered snapshot of messages taken at
// login, each with a size, a unique id and a way to stream it. Nothing here
// knows POP3 commands; message numbers are 0-based.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pop3d::mailbox {

enum class Status {
    ok,
    in_use,     // locked by another program or session: try later
    temp_fail,  // transient failure (I/O, lock timeout)
    changed,    // another program rewrote the mailbox since the snapshot (temporary for the client)
    too_soon,   // the user logged in less than login_delay ago (LOGIN-DELAY)
    perm_fail,  // needs an administrator (wrong owner, not a regular file, not mbox)
};

struct Result {
    Status status = Status::ok;
    std::string detail;  // for the log
    bool ok() const { return status == Status::ok; }
    static Result good() { return {}; }
};

// Where message bytes go. write() returns false when the receiver is gone.
// A sink may also lend its own buffer, so that a message is converted
// straight into it: space(want) returns at least `want` writable bytes (or
// nothing: use write()), commit(n) takes the first n of them.
class ByteSink {
public:
    virtual ~ByteSink() = default;
    virtual bool write(std::string_view bytes) = 0;
    virtual std::span<char> space(std::size_t /*want*/) { return {}; }
    virtual bool commit(std::size_t /*n*/) { return false; }
};

class Maildrop {
public:
    virtual ~Maildrop() = default;
    virtual std::size_t count() const = 0;
    // Octets of message i in canonical form (CRLF line ends), as sent before dot-stuffing.
    virtual std::uint64_t size(std::size_t i) const = 0;
    // Computes the unique ids on first use; uid() is valid after a good result.
    virtual Result load_uids() = 0;
    virtual std::string uid(std::size_t i) const = 0;
    // Cheap check that message i is still where the snapshot says; call before
    // promising the client any bytes.
    virtual Result check(std::size_t i) = 0;
    // Streams message i, dot-stuffed, in canonical form. body_lines limits the
    // body (TOP); nullopt sends it all. Does not send the terminating ".".
    // A failure after the first byte leaves the stream unusable.
    virtual Result send(std::size_t i, std::optional<std::uint64_t> body_lines, ByteSink& out) = 0;
    // Removes the messages flagged in `deleted` (size count()); keeps mail
    // delivered after the snapshot.
    virtual Result expunge(const std::vector<bool>& deleted) = 0;
    // Whether deletions can still be carried out: false for a read-only
    // file, and from the moment a check found the mailbox changed by
    // another program (the session then goes on read-only).
    virtual Result writable() const = 0;
    // The session waits for its client: give back read buffers.
    virtual void release_buffers() {}
};

}  // namespace pop3d::mailbox
