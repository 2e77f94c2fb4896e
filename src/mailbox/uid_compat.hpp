// The UIDLs the servers pop3d replaces gave to mbox messages (issue 22,
// uidl_compat), computed from the message alone, so that clients that keep
// mail on the server fetch nothing twice after the switch. The expected
// values of the unit tests were recorded from the Debian 12 binaries
// (tests/integration/peer_servers.py); docs/DESIGN.md "UIDs" has the rules.
//
// "header" below is one message's header block: the bytes after its From_
// line up to the empty line that ends it (that line may be included).
#pragma once

#include "common/civil_time.hpp"
#include "common/uidl_peer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pop3d::mailbox::compat {

// popa3d 1.0.3: MD5 over the raw bytes (LF and any CR included) of the
// first Received: line, every Delivered-To: line, the Date: and Message-ID:
// lines that come before the first Received:, and every X-Delivery-ID: line
// (upper-case X), each with its continuation lines; shown as the first two
// little-endian 32-bit words of the digest, "%08x%08x". A header with none of
// them gives d98c1dd404b2008f. popa3d lists repeated ids as they are.
std::string popa3d_uidl(std::string_view header);

// ---- X-IMAPbase / X-IMAP / X-UID, as Dovecot and UW c-client write them ----

enum class Stamper { dovecot, uw };

struct ImapBase {
    std::uint32_t validity = 0;
    std::uint32_t uid_last = 0;
};

// The stamps of one message's header, read with `who`'s parser: Dovecot
// matches the names ASCII case-insensitively, c-client exactly.
struct Stamps {
    std::optional<ImapBase> base;        // X-IMAPbase, or X-IMAP (then pseudo)
    bool pseudo = false;                 // X-IMAP: the folder's internal-data message, hidden from POP3
    bool has_uid = false;                // an X-UID field was there (the first one counts)
    std::optional<std::uint32_t> uid;    // its value, when well-formed
    bool uid_before_base = false;        // it came before X-IMAPbase (ignored in message 1)
};
Stamps read_stamps(std::string_view header, Stamper who);

// The ids in the peer's format: Dovecot's Debian default pop3_uidl_format
// %08Xu%08Xv (lower-case hex, uid first), UW ipop3d's "%08lx%08lx"
// (validity first).
std::string dovecot_uidl(std::uint32_t uid, std::uint32_t validity);
std::string uw_uidl(std::uint32_t validity, std::uint32_t uid);

// Walks a maildrop's messages in file order and gives each the id the peer
// gave it, or nothing where the peer never stamped the message (pop3d's own
// id then). Built from the first message's stamps: the validity lives there.
class StampedIds {
public:
    StampedIds(Stamper who, const Stamps& first);
    // False when message 1 carries no X-IMAPbase/X-IMAP: no message has a peer id.
    bool usable() const { return usable_; }
    // Call once per message, the first one included, in order. A pseudo
    // first message gets nothing (the caller hides it).
    std::optional<std::string> next(const Stamps& s);

private:
    std::optional<std::string> next_dovecot(std::optional<std::uint32_t> uid);
    std::optional<std::string> next_uw(std::optional<std::uint32_t> uid);

    Stamper who_;
    bool usable_ = false;
    bool first_ = true;
    std::uint32_t validity_ = 0;
    std::uint64_t next_uid_ = 1;  // Dovecot: the uid it would give an unstamped message
    std::uint64_t prev_uid_ = 0;  // the last uid given (a stamped X-UID must exceed it)
};

using Peer = UidlPeer;  // common/uidl_peer.hpp

struct Options {
    Peer peer = Peer::none;
    std::optional<CivilTime> until{};  // popa3d: a From_ line dated later gets no peer id
};

// Fed each message of a maildrop in file order, its bytes from the From_
// line to its end in chunks of any size (as UidHasher is), it keeps the
// From_ line's start and the header lines the peers read (those that start
// with one of their field names, with their continuation lines) and gives
// the peer's id for the message, or nothing (pop3d's own id then).
class PeerIds {
public:
    explicit PeerIds(const Options& options) : options_(options) {}
    void begin();
    void feed(const char* p, std::size_t n);
    std::optional<std::string> finish();
    // The header has ended and the message has the peer's id: its body
    // changes nothing (the caller need not hash it for an id of its own).
    bool has_id() const { return decided_ && id_.has_value(); }
    // False when Dovecot's or UW's validity was not in message 1: no ids to keep.
    bool usable() const { return !stamped_ || stamped_->usable(); }

private:
    enum class State { from_line, line_start, name, keep, skip, body };
    std::size_t take_from_line(const char* p, std::size_t i, std::size_t n);
    std::size_t start_line(const char* p, std::size_t i);
    std::size_t take_name(const char* p, std::size_t i, std::size_t n);
    std::size_t take_line(const char* p, std::size_t i, std::size_t n);
    bool wanted(std::string_view line_start) const;
    void decide();
    void keep(const char* p, std::size_t n);

    static constexpr std::size_t kNameProbe = 14;        // longer than every field name read
    static constexpr std::size_t kMaxFromLine = 256;     // enough for its date
    static constexpr std::size_t kMaxKept = 64 * 1024;   // more: no peer id (no real header is so big)
    Options options_;
    State state_ = State::from_line;
    bool keeping_ = false;  // the current field is kept (continuations follow it)
    bool overflow_ = false;
    bool decided_ = false;  // the header is over: id_ is the message's
    std::optional<std::string> id_;
    std::string from_line_;
    std::string name_;  // the start of the current line, until it is decided
    std::string kept_;
    std::optional<StampedIds> stamped_;  // dovecot, uw: from message 1 on
};

}  // namespace pop3d::mailbox::compat
