// The index a session leaves for the next one to its maildrop, kept outside
// the spool (index_cache_dir, one file per maildrop): the messages' offsets
// and sizes, their ids, and the keyed digest of the bytes they were taken
// from. The mailbox itself is never written. The next session reads the
// mailbox once through the digest (POLYVAL at the saved key, several GB/s)
// instead of indexing and hashing it: equal digests prove the bytes are the
// ones indexed, so neither an index nor an id can be served for a mailbox
// that a mail reader rewrote (docs/DESIGN.md, "The saved index").
#pragma once

#include "mailbox/content_digest.hpp"
#include "mailbox/maildrop.hpp"
#include "mailbox/message_index.hpp"
#include "mailbox/uid.hpp"

#include "common/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace pop3d::mailbox {

// What the saved index was taken from; it is used only when all of it
// matches the mailbox opened now.
struct IndexStamp {
    std::uint64_t owner = 0, dev = 0, ino = 0;  // the mailbox file
    std::uint64_t rules = 0;    // index_rules(): the options and code that shape index and ids
    std::uint64_t end = 0;      // the snapshot is [0, end)
    ContentDigest::Key key{};   // never zero
    ContentDigest::Value digest{};  // of [0, end), at key
    // The first `uids` messages have their ids (digest, flags, overrides);
    // all of them: their suffixes (dup) too.
    std::uint64_t uids = 0;
};

// A fingerprint of what decides the index and the ids besides the bytes:
// kIndexFormat and the options given. A saved index taken under others is
// not used.
std::uint64_t index_rules(bool unquote, std::size_t max_messages, std::string_view uid_options);

class IndexCache {
    struct Key {
        explicit Key() = default;
    };

public:
    // Bump on any change of the file's layout, of MessageEntry, or of a rule
    // of the indexer or of the ids (mbox_grammar.hpp, mbox_index.cpp, uid.cpp).
    static constexpr std::uint32_t kIndexFormat = 2;

    IndexCache(Key, UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

    // Opens (creates) DIR/<hash of mailbox_path>.index, a private file as
    // the session lock is; nullptr with why in result when it cannot.
    static std::unique_ptr<IndexCache> open(const std::string& dir, const std::string& mailbox_path, Result& result);
    static std::string file_name(const std::string& mailbox_path);

    // The saved index, if the file holds a whole one (not torn, its own check
    // digest matches, sane offsets) taken from the file `expected` describes
    // (owner, dev, ino, rules) with at most max_messages entries. stamp gets
    // the rest (end, key, digest, uids).
    bool load(IndexStamp& stamp, MessageIndex& messages, UidOverrides& overrides, std::size_t max_messages) const;
    // Replaces the saved index. False (nothing usable left) on a write error.
    bool save(const IndexStamp& stamp, std::span<const MessageEntry> messages, const UidOverrides& overrides);
    const std::string& path() const { return path_; }

private:
    UniqueFd fd_;
    std::string path_;
};

}  // namespace pop3d::mailbox
