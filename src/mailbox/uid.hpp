// Unique ids for mbox messages, derived from the bytes and never written back.
//
// UID = the first 128 bits of SHA-256 over the From_ line, the header fields
// except those MUAs rewrite (kVolatileHeaders), and the body, as 32 lowercase
// hex digits; a last line without its LF counts as ended (the next delivery
// may end it). A message that carries a valid X-UIDL header (qpopper,
// mailutils) keeps that value instead. Ids that would repeat get a suffix
// ".2", ".3"... in message order, so every id in a maildrop is unique.
#pragma once

#include "mailbox/mbox_grammar.hpp"
#include "mailbox/mbox_index.hpp"
#include "mailbox/sha256_lanes.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pop3d::mailbox {

inline constexpr std::string_view kVolatileHeaders[] = {
    "Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase", "Content-Length", "Lines",
};
inline constexpr std::size_t kMaxUidLength = 70;

// Hashes one message's bytes, [from_offset, content_end), fed in order; bytes
// that do not end in LF are hashed as if one followed (see finish()).
// The bytes that count go to a Sha256Lanes: its own (one message at a time),
// or one given, where many messages wait to be hashed two at a time.
class UidHasher {
public:
    UidHasher() : lanes_(&own_) {}
    explicit UidHasher(Sha256Lanes& lanes) : lanes_(&lanes) {}
    UidHasher(const UidHasher&) = delete;
    UidHasher& operator=(const UidHasher&) = delete;

    void begin();
    void feed(const char* p, std::size_t n);
    // The message's id will not be its digest (an old server's id, by
    // uidl_compat): its body need not be hashed.
    void skip_body() { skip_body_ = true; }
    // False when the bytes did not start with "From " (the mailbox changed).
    bool finish(MessageEntry& entry, std::string& override_uid);
    // The same, but the digest is left to compute: entry.digest takes the
    // first 16 bytes of lanes.digest(job) after lanes.run().
    bool finish_queued(MessageEntry& entry, std::string& override_uid, std::size_t& job);

private:
    enum class State { from_line, line_start, collect, include, exclude, xuidl, body };
    enum class Action { include, exclude, xuidl };
    std::size_t from_line(const char* p, std::size_t i, std::size_t n);
    std::size_t header_lines(const char* p, std::size_t i, std::size_t n);
    std::size_t start_line(const char* p, std::size_t i);
    std::size_t collect_name(const char* p, std::size_t i);
    std::size_t field_rest(const char* p, std::size_t i, std::size_t n);
    void hash(const char* p, std::size_t n) { lanes_->append(p, n); }
    void decide_field(std::string_view name);

    Sha256Lanes own_;
    Sha256Lanes* lanes_;
    State state_ = State::from_line;
    Action field_action_ = Action::include;
    char name_[32];
    std::size_t name_len_ = 0;
    char head_[mbox::kFromLine.size()];  // the first bytes, to check for a From_ line
    std::size_t head_len_ = 0;
    bool seen_xuidl_ = false;
    bool xuidl_valid_ = false;
    std::string xuidl_;
    char last_byte_ = '\n';  // of the bytes fed; '\n' before any
    bool skip_body_ = false;
};

using UidOverrides = std::unordered_map<std::uint32_t, std::string>;

// Sets entry.dup so that every rendered id is unique: plain hashed ids keep
// no suffix; then, in mailbox order, each X-UIDL value or repeated digest
// takes its first free id of base, base.2, base.3... Linear time (uid_unique.cpp).
void make_uids_unique(std::span<MessageEntry> entries, const UidOverrides& overrides);

std::string render_uid(const MessageEntry& entry, const UidOverrides& overrides, std::uint32_t index);

// True for 1..70 bytes of 0x21..0x7E.
bool valid_uid(std::string_view uid) noexcept;

}  // namespace pop3d::mailbox
