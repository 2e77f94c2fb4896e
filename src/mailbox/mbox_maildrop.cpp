#include "mailbox/mbox_maildrop.hpp"

#include "common/text.hpp"
#include "mailbox/file_digest.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/mbox_expunge.hpp"
#include "mailbox/message_encoder.hpp"
#include "mailbox/snapshot.hpp"
#include "mailbox/uid_scan.hpp"
#include "log/events.hpp"

#include <algorithm>
#include <chrono>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>


namespace pop3d::mailbox {

namespace {

constexpr int kOpenFlags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
constexpr int kReopenAttempts = 3;

Result perm(std::string why) { return {Status::perm_fail, std::move(why)}; }

// Checks made on the open fd, so nothing can be swapped in between.
Result check_file(int fd, const std::string& path, uid_t owner, struct stat& st) {
    if (::fstat(fd, &st) != 0) return {Status::temp_fail, path + ": fstat: " + text::errno_text(errno)};
    if (!S_ISREG(st.st_mode)) return perm(path + " is not a regular file");
    if (st.st_uid != owner)
        return perm(path + " is owned by uid " + std::to_string(st.st_uid) + ", not uid " + std::to_string(owner));
    if (st.st_nlink != 1) return perm(path + " has " + std::to_string(st.st_nlink) + " links");
    // Anyone could have forged or cut the mail in it: the admin must look first.
    if (st.st_mode & S_IWOTH) return perm(path + " is writable by everyone (chmod o-w it)");
    return Result::good();
}

}  // namespace

std::unique_ptr<MboxMaildrop> MboxMaildrop::open(const MboxOptions& options, Result& result,
                                                 std::unique_ptr<IndexCache> cache) {
    auto md = std::make_unique<MboxMaildrop>(Key{}, options);
    md->cache_ = std::move(cache);
    for (int attempt = 0; attempt < kReopenAttempts; ++attempt) {
        md->read_only_ = false;
        int raw = ::open(options.path.c_str(), O_RDWR | kOpenFlags);
        if (raw < 0 && (errno == EACCES || errno == EROFS)) {
            raw = ::open(options.path.c_str(), O_RDONLY | kOpenFlags);
            md->read_only_ = raw >= 0;
        }
        if (raw < 0) {
            const int e = errno;
            if (e == ENOENT) {  // no mailbox file yet: an empty maildrop
                result = Result::good();
                return md;
            }
            if (e == ELOOP) result = perm(options.path + " is a symbolic link");
            else if (e == EACCES || e == ENOTDIR || e == EPERM || e == EISDIR || e == ENXIO)
                result = perm(options.path + ": " + text::errno_text(e));
            else result = {Status::temp_fail, options.path + ": " + text::errno_text(e)};
            return nullptr;
        }
        md->fd_.reset(raw);
        struct stat st {};
        if (result = check_file(raw, options.path, options.owner, st); !result.ok()) return nullptr;
        // O_NONBLOCK was only there so that opening a FIFO could not hang.
        ::fcntl(raw, F_SETFL, ::fcntl(raw, F_GETFL) & ~O_NONBLOCK);
        md->dev_ = st.st_dev;
        md->ino_ = st.st_ino;

        auto lock = MailboxLock::acquire(raw, options.path, !md->read_only_, options.lock, result);
        if (!lock) return nullptr;
        // The path may have been replaced between open() and locking.
        struct stat now {};
        if (::lstat(options.path.c_str(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
            md->fd_.reset();
            continue;
        }
        result = md->index();
        if (!result.ok()) return nullptr;
        return md;
    }
    result = {Status::temp_fail, options.path + " keeps being replaced"};
    return nullptr;
}

Result MboxMaildrop::index() {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return {Status::temp_fail, "fstat: " + text::errno_text(errno)};
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (cache_)
        if (std::optional<Result> r = index_from_saved(size)) return *r;
    return index_whole(size);
}

// Indexes [0, size) and takes the digest in the same pass, over the same bytes.
Result MboxMaildrop::index_whole(std::uint64_t size) {
    snapshot_end_ = size;
    messages_.clear();
    overrides_.clear();
    uids_known_ = 0;
    // The Content-Length rule looks ahead in the file (the locks keep it still).
    const MboxSource source = file_source(fd_.get(), snapshot_end_);
    MboxIndexer indexer(options_.unquote, options_.max_messages, &source);
    start_prefetch(indexer, 0, size);
    const std::optional<ContentDigest::Key> key = ContentDigest::random_key();
    if (!key) return {Status::temp_fail, "getrandom: " + text::errno_text(errno)};
    digest_key_ = *key;
    ContentDigest digest(digest_key_);
    std::uint64_t fed = 0;
    const bool read_ok = read_range(fd_.get(), 0, snapshot_end_, [&](const char* p, std::size_t n) {
        indexer.feed(p, n);
        digest.update(p, n);
        fed += n;
        return !indexer.full();
    });
    if (!read_ok || !finish_index(indexer)) return index_failed(read_ok, indexer);
    snapshot_end_ = indexer.end();
    if (fed != snapshot_end_) {  // the index ends early (max_messages, a cut From_ line): digest just its part
        digest.reset();
        if (!digest_range(fd_.get(), 0, snapshot_end_, digest)) return index_failed(false, indexer);
    }
    digest_ = digest.finish();
    if (indexer.full()) log_too_large();
    messages_ = std::move(indexer.messages());
    messages_.shrink_to_fit();
    cache_stale_ = true;
    indexed_from_ = IndexedFrom::file;
    return Result::good();
}

void MboxMaildrop::log_too_large() const {
    log::write(log::event::maildrop_too_large,
               options_.path + " holds more than " + text::count(options_.max_messages, "message") +
                   " (max_messages): serving the first ones; the rest come after they are deleted");
}

IndexStamp MboxMaildrop::stamp() const {
    IndexStamp s;
    s.owner = options_.owner;
    s.dev = dev_;
    s.ino = ino_;
    s.rules = index_rules(options_.unquote, options_.max_messages, name(options_.compat.peer));
    s.end = snapshot_end_;
    s.key = digest_key_;
    s.digest = digest_;
    s.uids = uids_loaded_ ? messages_.size() : uids_known_;
    return s;
}

// The index the previous session saved, if the file still starts with the
// very bytes it was taken from (the digest at its key says so, or nothing
// of it is used); mail appended since is indexed on. nullopt: index it all.
std::optional<Result> MboxMaildrop::index_from_saved(std::uint64_t size) {
    IndexStamp saved = stamp();
    if (!cache_->load(saved, messages_, overrides_, options_.max_messages) || saved.end > size ||
        (saved.end < size && !MboxIndexer::resumable(messages_)))
        return std::nullopt;
    ContentDigest digest(saved.key);
    if (!digest_file(fd_.get(), saved.end, digest))
        return Result{Status::temp_fail, options_.path + ": read error while indexing"};
    if (digest.finish() != saved.digest) return std::nullopt;  // rewritten since: index it all
    digest_key_ = saved.key;
    // uidl_compat computes the ids each session (the old server's depend on
    // the messages before; the session logs how many it kept).
    uids_known_ = options_.compat.peer == compat::Peer::none ? static_cast<std::size_t>(saved.uids) : 0;
    if (saved.end == size) {
        snapshot_end_ = saved.end;
        digest_ = saved.digest;
        uids_loaded_ = uids_known_ == messages_.size();
        cache_stale_ = false;
        indexed_from_ = IndexedFrom::saved;
    } else if (Result r = index_appended(saved, digest, size); !r.ok()) {
        return r;
    }
    forget_ids_from(uids_known_);
    return Result::good();
}

// A large mailbox's ids are hashed on the second core while it is indexed
// (the first UIDL then finds most of them done), if the process's helper
// is free. Not with uidl_compat: the old servers' ids need every message
// before, in order.
void MboxMaildrop::start_prefetch(MboxIndexer& indexer, std::uint32_t first, std::uint64_t bytes) {
    prefetch_.reset();
    if (bytes <= options_.uid_prefetch_bytes || options_.compat.peer != compat::Peer::none) return;
    prefetch_ = UidPrefetch::start(fd_.get(), first);
    if (prefetch_) indexer.on_message([p = prefetch_.get()](const MessageEntry& m) { p->add(m); });
}

// Why an index pass failed: a read error, or a file that changed while it
// was read, is temporary; a file that is no mbox needs its admin.
Result MboxMaildrop::index_failed(bool read_ok, const MboxIndexer& indexer) const {
    if (!read_ok) return {Status::temp_fail, options_.path + ": read error while indexing"};
    if (indexer.changed()) return {Status::temp_fail, options_.path + ": " + indexer.error()};
    return perm(options_.path + ": " + indexer.error());
}

// The index is whole: the prefetch has all its messages; or it failed.
bool MboxMaildrop::finish_index(MboxIndexer& indexer) {
    const bool ok = indexer.finish();
    indexer.on_message(nullptr);
    if (prefetch_ && ok) prefetch_->finish_adding();
    else prefetch_.reset();
    return ok;
}

// Messages [first, n) get their ids computed again (load_uids).
void MboxMaildrop::forget_ids_from(std::size_t first) {
    for (auto it = overrides_.begin(); it != overrides_.end();)
        it = it->first >= first ? overrides_.erase(it) : std::next(it);
    for (std::size_t i = first; i < messages_.size(); ++i) {
        MessageEntry& m = messages_[i];
        m.digest = {};
        m.dup = 0;
        m.flags &= ~(MessageEntry::kHasOverride | MessageEntry::kPeerId);
    }
}

// Mail was appended after the saved index: its last message is indexed
// again (its end may move: a Content-Length may now be consistent, a last
// line gets its LF) and so is everything after it. digest holds [0, saved.end).
Result MboxMaildrop::index_appended(IndexStamp& saved, ContentDigest& digest, std::uint64_t size) {
    const std::size_t keep = messages_.size() - 1;
    const std::uint64_t start = messages_[keep].from_offset;
    messages_.truncate(keep);
    uids_known_ = std::min(uids_known_, keep);
    const MboxSource source = file_source(fd_.get(), size);
    MboxIndexer indexer(options_.unquote, options_.max_messages - keep, &source, start);
    if (uids_known_ == keep) start_prefetch(indexer, static_cast<std::uint32_t>(keep), size - start);
    const ContentDigest before = digest;
    std::uint64_t pos = start;
    const bool read_ok = read_range(fd_.get(), start, size - start, [&](const char* p, std::size_t n) {
        indexer.feed(p, n);
        if (pos + n > saved.end) {
            const std::uint64_t skip = pos < saved.end ? saved.end - pos : 0;
            digest.update(p + skip, static_cast<std::size_t>(n - skip));
        }
        pos += n;
        return !indexer.full();
    });
    if (!read_ok || !finish_index(indexer)) return index_failed(read_ok, indexer);
    snapshot_end_ = indexer.end();
    if (snapshot_end_ < saved.end) return index_whole(size);  // cannot be: the saved bytes are all there
    if (pos != snapshot_end_) {  // the index ends early: digest just its part
        digest = before;
        if (!digest_range(fd_.get(), saved.end, snapshot_end_ - saved.end, digest))
            return index_failed(false, indexer);
    }
    digest_ = digest.finish();
    if (indexer.full()) log_too_large();
    for (const MessageEntry& m : indexer.messages()) messages_.push_back(m);
    cache_stale_ = true;
    indexed_from_ = IndexedFrom::saved_and_appended;
    return Result::good();
}

// Leaves this session's index for the next one, unless the mailbox is no
// longer the file it was taken from (an expunge, another program's rewrite).
void MboxMaildrop::save_index() noexcept {
    if (!cache_ || !cache_stale_ || expunged_ || changed_ || !fd_) return;
    try {
        cache_->save(stamp(), std::span<const MessageEntry>(messages_.begin(), messages_.end()), overrides_);
    } catch (...) {  // no memory for the overrides' encoding: the next session indexes anew
    }
    cache_stale_ = false;
}

Result MboxMaildrop::load_uids() {
    if (uids_loaded_ || messages_.empty()) {
        uids_loaded_ = true;
        return Result::good();
    }
    // The separator bytes after the last message are read too: a file cut
    // short since login fails the read.
    std::optional<compat::PeerIds> peer;  // uidl_compat
    if (options_.compat.peer != compat::Peer::none) peer.emplace(options_.compat);
    const std::span<MessageEntry> all(messages_.begin(), messages_.end());
    bool ok = false;
    if (peer) ok = compute_uid_digests_and_peer_ids(fd_.get(), all, snapshot_end_, overrides_, *peer);
    else if (prefetch_) ok = prefetch_->complete(all.subspan(uids_known_), overrides_);
    else if (uids_known_ == 0) ok = compute_all_uid_digests(fd_.get(), all, snapshot_end_, overrides_);
    else  // the saved index had the ids of the first messages
        ok = compute_uid_digests(fd_.get(), all.subspan(uids_known_), static_cast<std::uint32_t>(uids_known_),
                                 snapshot_end_, overrides_);
    prefetch_.reset();
    if (!ok) {
        forget_ids_from(uids_known_);  // those of the saved index stay
        changed_ = true;
        return {Status::changed, options_.path + ": mailbox changed since login (while computing UIDs)"};
    }
    make_uids_unique(messages_, overrides_);
    if (peer) log_peer_ids(*peer);
    uids_loaded_ = true;
    cache_stale_ = true;
    return Result::good();
}

// Once per session: how many messages kept the old server's id, and the
// repeats that had to get a suffix (popa3d's ids repeat).
void MboxMaildrop::log_peer_ids(const compat::PeerIds& peer) const {
    std::size_t kept = 0, repeated = 0;
    for (const MessageEntry& m : messages_) {
        if (!(m.flags & MessageEntry::kPeerId)) continue;
        kept += m.dup == 0;
        repeated += m.dup > 0;
    }
    std::string line = options_.path + ": " + std::to_string(kept) + " of " + text::count(messages_.size(), "message") +
                       (kept == 1 ? " keeps" : " keep") + " the id " + std::string(name(options_.compat.peer)) +
                       " gave";
    if (repeated > 0)
        line += "; " + text::count(repeated, "repeated id") + " got a suffix (.2, .3...): those messages are new to clients";
    if (!peer.usable()) line += " (no X-IMAPbase or X-IMAP in message 1: no ids to keep)";
    log::write(log::event::uidl_compat, line);
}

std::string MboxMaildrop::uid(std::size_t i) const {
    return render_uid(messages_[i], overrides_, static_cast<std::uint32_t>(i));
}

Result MboxMaildrop::check(std::size_t i) {
    const MessageEntry& m = messages_[i];
    const std::uint64_t start = from_probe_start(m.from_offset);
    auto changed = [&](const char* why) {
        drop_window();
        changed_ = true;
        return Result{Status::changed, options_.path + ": mailbox changed since login: " + why + " (message " +
                                             std::to_string(i + 1) + ")"};
    };
    // The From_ line must be in view; a window read for an earlier message
    // of a pipeline usually has it already, checked against the file as it
    // was then (the bytes served are the ones indexed either way).
    if (!in_window(start, m.content_offset)) {
        struct stat st {};
        if (::fstat(fd_.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) < snapshot_end_)
            return changed("the file is shorter");
        // The first message after the client was waited for: read just it
        // (a client that sends one command at a time gains nothing from
        // more). The next ones without a wait are a pipeline: read ahead.
        const std::uint64_t want = burst_ ? snapshot_end_ - start : m.content_end - start;
        const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(want, kReadChunk));
        if (window_capacity_ < len) {
            window_ = std::make_unique_for_overwrite<char[]>(len);
            window_capacity_ = len;
        }
        window_offset_ = start;
        window_len_ = 0;
        if (!pread_full(fd_.get(), window_.get(), len, start)) return changed("read error");
        window_len_ = len;
    }
    burst_ = true;
    const char* at = window_.get() + (start - window_offset_);
    const std::size_t avail = window_len_ - static_cast<std::size_t>(start - window_offset_);
    // The From_ line starts and ends where the index has it.
    const std::uint64_t from_end = m.content_offset - start;  // just past its LF
    if (!from_line_in(at, avail, m.from_offset) ||
        (m.content_offset > m.from_offset && (from_end > avail || at[from_end - 1] != '\n')))
        return changed("no From_ line where it was");
    return Result::good();
}

Result MboxMaildrop::send(std::size_t i, std::optional<std::uint64_t> body_lines, ByteSink& out) {
    const MessageEntry& m = messages_[i];
    MessageEncoder encoder(out, m.unquoted(options_.unquote), true, body_lines);
    bool sink_ok = true;
    auto feed = [&](const char* p, std::size_t n) {
        sink_ok = encoder.feed(p, n);
        return sink_ok && !encoder.done();
    };
    std::uint64_t pos = m.content_offset;
    if (in_window(pos, pos)) {  // the bytes check() read
        const std::uint64_t end = std::min<std::uint64_t>(window_offset_ + window_len_, m.content_end);
        feed(window_.get() + (pos - window_offset_), static_cast<std::size_t>(end - pos));
        pos = end;
    }
    const bool read_ok =
        !sink_ok || encoder.done() || pos == m.content_end || read_range(fd_.get(), pos, m.content_end - pos, feed);
    if (!read_ok) {
        drop_window();
        changed_ = true;
        return {Status::changed, options_.path + ": read error or mailbox truncated while sending"};
    }
    if (!sink_ok || !encoder.finish()) return {Status::temp_fail, "client connection lost while sending"};
    return Result::good();
}

Result MboxMaildrop::writable() const {
    if (read_only_) return perm(options_.path + " is read-only");
    if (changed_) return {Status::changed, options_.path + " was changed by another program during the session"};
    return Result::good();
}

Result MboxMaildrop::expunge(const std::vector<bool>& deleted) {
    bool any = false;
    for (std::size_t i = 0; i < messages_.size() && i < deleted.size(); ++i) any = any || deleted[i];
    if (!any) return Result::good();
    if (Result w = writable(); !w.ok()) return {w.status, w.detail + "; no messages deleted"};
    prefetch_.reset();  // ids nobody asked for: the expunge has the disk to itself
    Result result;
    const auto started = std::chrono::steady_clock::now();
    auto lock = MailboxLock::acquire(fd_.get(), options_.path, true, options_.lock, result);
    if (!lock) return {result.status, result.detail + "; no messages deleted"};
    const auto locked = std::chrono::steady_clock::now();
    result = mailbox::expunge(fd_.get(), snapshot(), deleted, *lock, options_.lock.privilege);
    lock.reset();
    if (result.status == Status::changed) changed_ = true;
    expunged_ = expunged_ || result.ok();
    if (result.ok()) {
        using std::chrono::duration_cast;
        using std::chrono::milliseconds;
        const auto n = static_cast<std::size_t>(std::count(deleted.begin(), deleted.end(), true));
        log::write(log::event::expunged,
                   std::to_string(n) + " of " + text::count(messages_.size(), "message") + " from " + options_.path +
                       " in " +
                       std::to_string(duration_cast<milliseconds>(std::chrono::steady_clock::now() - locked).count()) +
                       " ms (waited " + std::to_string(duration_cast<milliseconds>(locked - started).count()) +
                       " ms for the locks)");
    }
    return result;
}

}  // namespace pop3d::mailbox
