// Maildrop over one mbox file. The file is opened once, at login, without
// following symlinks, and checked on the open fd (regular file, owned by the
// user, one link); locks are held only while indexing and while expunging.
#pragma once

#include "common/unique_fd.hpp"
#include "mailbox/content_digest.hpp"
#include "mailbox/index_cache.hpp"
#include "mailbox/mailbox_lock.hpp"
#include "mailbox/maildrop.hpp"
#include "mailbox/mbox_index.hpp"
#include "mailbox/session_lock.hpp"
#include "mailbox/snapshot.hpp"
#include "mailbox/uid.hpp"
#include "mailbox/uid_compat.hpp"
#include "mailbox/uid_prefetch.hpp"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace pop3d::mailbox {

struct MboxOptions {
    std::string path;
    uid_t owner = static_cast<uid_t>(-1);  // the file must belong to this uid
    bool unquote = true;                   // mboxrd >From unquoting
    std::size_t max_messages = static_cast<std::size_t>(-1);  // index no more (the rest waits for later)
    LockSettings lock;                     // lock.privilege also serves the expunge's rename
    compat::Options compat;                // uidl_compat: the old server whose ids listed messages keep
    // Above this many bytes to index, the UIDs are hashed on a second core
    // while the index is taken (UidPrefetch); tests lower it.
    std::uint64_t uid_prefetch_bytes = 8 * 1024 * 1024;
};

class MboxMaildrop final : public Maildrop {
    struct Key {
        explicit Key() = default;
    };

public:
    MboxMaildrop(Key, MboxOptions options) : options_(std::move(options)) {}
    // A missing file is an empty maildrop. On failure returns nullptr and
    // sets result (in_use, perm_fail or temp_fail, with a detail for the log).
    // cache: where the previous session left its index (may be null); this
    // one uses it if it still matches the file, and saves its own there.
    static std::unique_ptr<MboxMaildrop> open(const MboxOptions& options, Result& result,
                                              std::unique_ptr<IndexCache> cache = nullptr);
    ~MboxMaildrop() override { save_index(); }

    std::size_t count() const override { return messages_.size(); }
    std::uint64_t size(std::size_t i) const override { return messages_[i].size; }
    Result load_uids() override;
    std::string uid(std::size_t i) const override;
    // Checks message i's From_ line and reads the message's first chunk.
    Result check(std::size_t i) override;
    Result send(std::size_t i, std::optional<std::uint64_t> body_lines, ByteSink& out) override;
    Result expunge(const std::vector<bool>& deleted) override;
    Result writable() const override;
    void release_buffers() override {
        drop_window();
        save_index();  // while the client is quiet, not in the way of an answer
    }

    bool read_only() const { return read_only_; }
    // Where the index came from: the file alone, the saved index as it was,
    // or the saved index and the mail appended since.
    enum class IndexedFrom { file, saved, saved_and_appended };
    IndexedFrom indexed_from() const { return indexed_from_; }
    // Keeps the session lock for as long as the maildrop is open.
    void hold(std::unique_ptr<SessionLock> lock) { session_lock_ = std::move(lock); }

private:
    Result index();
    Result index_whole(std::uint64_t size);
    std::optional<Result> index_from_saved(std::uint64_t size);
    Result index_appended(IndexStamp& saved, ContentDigest& digest, std::uint64_t size);
    IndexStamp stamp() const;
    void log_too_large() const;
    void forget_ids_from(std::size_t first);
    void start_prefetch(MboxIndexer& indexer, std::uint32_t first, std::uint64_t bytes);
    bool finish_index(MboxIndexer& indexer);
    Result index_failed(bool read_ok, const MboxIndexer& indexer) const;
    void save_index() noexcept;
    void drop_window() {
        window_.reset();
        window_capacity_ = window_len_ = 0;
        burst_ = false;
    }
    void log_peer_ids(const compat::PeerIds& peer) const;
    Snapshot snapshot() const {
        return {options_.path, dev_, ino_, snapshot_end_, &messages_, &digest_key_, digest_};
    }

    MboxOptions options_;
    std::unique_ptr<SessionLock> session_lock_;
    UniqueFd fd_;  // invalid when the mailbox file does not exist
    bool read_only_ = false;
    bool changed_ = false;  // another program rewrote the mailbox: read-only from now on
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::uint64_t snapshot_end_ = 0;
    ContentDigest::Key digest_key_{};
    ContentDigest::Value digest_{};  // of [0, snapshot_end_) as indexed
    MessageIndex messages_;
    UidOverrides overrides_;
    bool uids_loaded_ = false;
    std::size_t uids_known_ = 0;  // messages [0, uids_known_) have their ids from the saved index

    std::unique_ptr<IndexCache> cache_;
    bool cache_stale_ = false;
    IndexedFrom indexed_from_ = IndexedFrom::file;
    // Hashing the ids of messages [uids_known_, n) since login; destroyed
    // (joined) before fd_ is closed.
    std::unique_ptr<UidPrefetch> prefetch_;  // the index or the ids differ from what the cache holds
    bool expunged_ = false;

    // What check(i) read from message i's From_ line on: the message (up
    // to kReadChunk), or kReadChunk when commands come in a burst, so that
    // a RETR costs one read and the RETRs of a pipeline that follow in the
    // file cost none. Freed when the session waits for its client.
    bool in_window(std::uint64_t from, std::uint64_t to) const {
        return window_ && from >= window_offset_ && to <= window_offset_ + window_len_;
    }
    std::unique_ptr<char[]> window_;
    std::uint64_t window_offset_ = 0;
    std::size_t window_len_ = 0;
    std::size_t window_capacity_ = 0;
    bool burst_ = false;  // a check() since the session last waited for its client
};

}  // namespace pop3d::mailbox
