#include "mailbox/mbox_expunge.hpp"

#include "common/text.hpp"
#include "common/unique_fd.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/mbox_index.hpp"
#include "mailbox/test_hooks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstring>
#include <memory>
#include <vector>

namespace pop3d::mailbox {

namespace {

Result io_error(const std::string& what, int err) {
    // Nothing was deleted: the original is untouched until the rename.
    return {Status::temp_fail, what + ": " + text::errno_text(err) + "; no messages deleted"};
}

// A long expunge refreshes the dotlock now and then: others must not judge it stale.
void keep_lock_fresh(MailboxLock& lock, std::chrono::steady_clock::time_point& last_touch) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_touch > std::chrono::seconds(30)) {
        lock.touch();
        last_touch = now;
    }
}

// The new file's bytes go out through one buffer, a few large writes, not
// one or two per kept message (keeping every other of 60,000 messages costs
// some 80 writes).
class OutputWriter {
public:
    static constexpr std::size_t kBuffer = 1024 * 1024;
    // A small mailbox gets a buffer its own size, not 1 MiB to touch and free.
    OutputWriter(int out, std::uint64_t file_size, MailboxLock& lock)
        : out_(out), lock_(lock),
          cap_(static_cast<std::size_t>(std::clamp<std::uint64_t>((file_size + 4095) / 4096 * 4096, 4096, kBuffer))),
          buf_(std::make_unique_for_overwrite<char[]>(cap_)) {}

    bool append(const char* p, std::size_t len) {
        while (len > 0) {
            const std::size_t n = std::min(len, cap_ - used_);
            std::memcpy(buf_.get() + used_, p, n);
            used_ += n;
            p += n;
            len -= n;
            if (used_ == cap_ && !flush()) return false;
        }
        return true;
    }

    bool flush() {
        if (used_ == 0) return true;
        if (!pwrite_full(out_, buf_.get(), used_, dst_)) return false;
        dst_ += used_;
        used_ = 0;
        keep_lock_fresh(lock_, last_touch_);
        return true;
    }

private:
    int out_;
    MailboxLock& lock_;
    const std::size_t cap_;
    std::unique_ptr<char[]> buf_;
    std::chrono::steady_clock::time_point last_touch_ = std::chrono::steady_clock::now();
    std::uint64_t dst_ = 0;
    std::size_t used_ = 0;
};

// Deleting messages after one whose ignored Content-Length reaches past
// its own end moves other bytes under that length: it might then end at a
// message boundary and swallow kept messages in the next session. Only in
// that case is the new layout indexed again before it replaces the old.
bool split_may_change(const MessageIndex& msgs, const std::vector<bool>& deleted) {
    bool later_deleted = false;
    for (std::size_t i = msgs.size(); i-- > 0;) {
        if (deleted[i]) later_deleted = true;
        else if (later_deleted && (msgs[i].flags & MessageEntry::kLengthReachesPast)) return true;
    }
    return false;
}

// Indexes the first `size` bytes of fd (the mailbox as the expunge would
// leave it): its first messages must be the kept ones, split as before.
Result check_kept_split(int fd, std::uint64_t size, const Snapshot& s, const std::vector<bool>& deleted) {
    const MboxSource source = file_source(fd, size);
    MboxIndexer indexer(true, static_cast<std::size_t>(-1), &source);
    const bool read_ok = read_range(fd, 0, size, [&](const char* p, std::size_t n) {
        indexer.feed(p, n);
        return true;
    });
    if (!read_ok || !indexer.finish()) return {Status::temp_fail, s.path + ": cannot index the new mailbox"};
    const MessageIndex& now = indexer.messages();
    const MessageIndex& was = *s.messages;
    std::size_t k = 0;
    for (std::size_t i = 0; i < was.size(); ++i) {
        if (deleted[i]) continue;
        const MessageEntry& a = was[i];
        if (k >= now.size() || now[k].content_offset - now[k].from_offset != a.content_offset - a.from_offset ||
            now[k].content_end - now[k].content_offset != a.content_end - a.content_offset ||
            (now[k].flags & MessageEntry::kContentLength) != (a.flags & MessageEntry::kContentLength))
            return {Status::temp_fail, s.path + ": deleting these messages would change where message " +
                                           std::to_string(i + 1) + " ends (its Content-Length header)"};
        ++k;
    }
    return Result::good();
}

// Step 2: the file cut short at `at`, where the first deleted message starts.
Result truncate_at(int fd, std::uint64_t at, const Snapshot& s, const std::vector<bool>& deleted, bool recheck) {
    if (recheck)
        if (Result r = check_kept_split(fd, at, s, deleted); !r.ok()) return {r.status, r.detail + "; no messages deleted"};
    if (::ftruncate(fd, static_cast<off_t>(at)) != 0) return io_error("ftruncate", errno);
    test_pause("truncated");
    if (::fsync(fd) != 0) return io_error("fsync", errno);
    return Result::good();
}

// Step 4's check that nobody wrote to the mailbox since step 1 (a writer
// that takes no lock): the same size (mail appended now would be lost by
// the rename or the truncation) and the same change and modification
// times. A write within the same clock tick as the one before step 1 could
// leave the times as they were: unless that write is older than
// kClockSlack, and the file system keeps times finer than a second, the
// From_ lines are read again too.
constexpr std::chrono::milliseconds kClockSlack{50};

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

Result unchanged_since(int fd, const Snapshot& s, const struct stat& before, const timespec& checked_at) {
    struct stat now {};
    if (::fstat(fd, &now) != 0) return {Status::temp_fail, s.path + ": fstat: " + text::errno_text(errno)};
    if (now.st_size != before.st_size || !same_time(now.st_mtim, before.st_mtim) ||
        !same_time(now.st_ctim, before.st_ctim))
        return {Status::changed, s.path + ": mailbox changed since login: written to during the expunge"};
    const auto ns = [](const timespec& t) {
        return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
    };
    // File systems that keep whole seconds (ext4 with 128-byte inodes, ext3,
    // some NFS servers) show no nanoseconds: their times cannot tell.
    const bool fine_times = before.st_mtim.tv_nsec != 0 || before.st_ctim.tv_nsec != 0;
    if (fine_times && ns(before.st_ctim) + kClockSlack < ns(checked_at)) return validate_snapshot_file(fd, s);
    return validate_snapshot(fd, s);
}

// Step 3's new file, with the mailbox's owner, group and mode (the group
// may need the raised mail group; a user can only give away to own groups).
// Without the mail group where it is needed nothing is created.
Result create_temp(const std::string& path, const struct stat& st, SpoolPrivilege* privilege, UniqueFd& out) {
    const std::string tmp = expunge_temp_path(path);
    const PrivilegeScope raised(privilege);
    if (!raised.ok()) return {Status::temp_fail, "cannot switch to the mail group to create " + tmp + "; no messages deleted"};
    ::unlink(tmp.c_str());  // left by a crash: we hold the locks, nobody else writes it
    // A one-time migration from the old name: remove this unlink,
    // legacy_expunge_temp_path and its unit test after 0.2.
    ::unlink(legacy_expunge_temp_path(path).c_str());
    out.reset(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (!out) return io_error("cannot create " + tmp, errno);
    if ((::fchown(out.get(), st.st_uid, st.st_gid) != 0 && errno != EPERM) || ::fchmod(out.get(), st.st_mode & 07777) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        return io_error("cannot set owner or mode of " + tmp, e);
    }
    struct stat got {};
    if (::fstat(out.get(), &got) != 0 || got.st_uid != st.st_uid || got.st_gid != st.st_gid ||
        (got.st_mode & 07777) != (st.st_mode & 07777)) {
        ::unlink(tmp.c_str());
        return {Status::perm_fail, "cannot give " + tmp + " the mailbox's owner, group and mode; no messages deleted"};
    }
    return Result::good();
}

// Step 4's rename, then the directory's fsync that makes it durable.
// Without the mail group where it is needed the new file is removed (as
// far as the user may) and the mailbox stays as it was.
Result swap_in(const std::string& tmp, const std::string& path, SpoolPrivilege* privilege) {
    {
        const PrivilegeScope raised(privilege);
        if (!raised.ok() || ::rename(tmp.c_str(), path.c_str()) != 0) {
            const int e = errno;
            ::unlink(tmp.c_str());
            if (!raised.ok())
                return {Status::temp_fail, "cannot switch to the mail group to rename " + tmp + "; no messages deleted"};
            return io_error("rename " + tmp, e);
        }
    }
    test_pause("renamed");
    UniqueFd dir(::open(text::parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir && ::fsync(dir.get()) != 0 && errno != EINVAL)
        return {Status::temp_fail, "fsync of the spool directory: " + text::errno_text(errno)};
    return Result::good();
}

// The byte ranges an expunge removes, in order: each deleted message from
// its From_ line to the next message's (or the snapshot's end), runs merged.
struct Range {
    std::uint64_t begin, end;
};
std::vector<Range> deleted_ranges(const Snapshot& s, const std::vector<bool>& deleted, std::size_t first) {
    const auto& msgs = *s.messages;
    std::vector<Range> out;
    for (std::size_t i = first; i < msgs.size(); ++i) {
        if (!deleted[i]) continue;
        const std::uint64_t begin = msgs[i].from_offset;
        const std::uint64_t end = i + 1 < msgs.size() ? msgs[i + 1].from_offset : s.end;
        if (!out.empty() && out.back().end == begin) out.back().end = end;
        else out.push_back({begin, end});
    }
    return out;
}

// Step 3's copy and step 1's proof in one read of the file: every byte of
// [0, file_end) is read once, in order; the bytes of the snapshot go to the
// digest and every byte outside a deleted range (the kept messages, then
// the mail delivered since) to the new file. The new file replaces the
// mailbox only if the digest then matches. On false err is the errno of
// the failure (0: the file is shorter than it was a moment ago).
bool copy_kept_and_digest(int fd, int out, const Snapshot& s, const std::vector<Range>& removed,
                          std::uint64_t file_end, ContentDigest& digest, MailboxLock& lock, int& err) {
    OutputWriter writer(out, file_end, lock);
    std::size_t next = 0;  // the first removed range not yet passed
    std::uint64_t pos = 0;
    bool write_ok = true;
    const bool read_ok = read_range(
        fd, 0, file_end,
        [&](const char* p, std::size_t n) {
            const std::uint64_t chunk_end = pos + n;
            if (pos < s.end) digest.update(p, static_cast<std::size_t>(std::min(chunk_end, s.end) - pos));
            while (pos < chunk_end && write_ok) {
                while (next < removed.size() && removed[next].end <= pos) ++next;
                if (next < removed.size() && removed[next].begin <= pos) {  // inside a removed range
                    const std::uint64_t to = std::min(removed[next].end, chunk_end);
                    p += to - pos;
                    pos = to;
                    continue;
                }
                const std::uint64_t to = next < removed.size() ? std::min(removed[next].begin, chunk_end) : chunk_end;
                write_ok = writer.append(p, static_cast<std::size_t>(to - pos));
                p += to - pos;
                pos = to;
            }
            pos = chunk_end;
            return write_ok;
        },
        OutputWriter::kBuffer);
    if (read_ok && write_ok && writer.flush()) return true;
    err = errno;
    return false;
}

Result nothing_deleted_unless(Result r) {
    if (!r.ok()) r.detail += "; no messages deleted";
    return r;
}

// What step 3 needs besides the snapshot: the first deleted message, the
// file's size at step 1, whether to index the result, the new file's name.
struct CopyPlan {
    std::size_t first;
    std::uint64_t file_end;
    bool recheck;
    const std::string& tmp;
};

// Step 3 after the new file is made: the kept bytes copied and the old
// ones proved in one read, the new layout checked where it may split
// otherwise, then fsync. On failure the caller removes the new file.
Result write_proved_copy(int fd, int out, const Snapshot& s, const std::vector<bool>& deleted, const CopyPlan& plan,
                         MailboxLock& lock) {
    if (!s.key)  // no digest was taken: the From_ lines at least
        if (Result r = validate_snapshot(fd, s); !r.ok()) return nothing_deleted_unless(r);
    ContentDigest digest(s.key ? *s.key : ContentDigest::Key{1});
    if (int err = 0; !copy_kept_and_digest(fd, out, s, deleted_ranges(s, deleted, plan.first), plan.file_end, digest,
                                           lock, err)) {
        if (err != 0) return io_error("writing " + plan.tmp, err);
        return {Status::changed, s.path + ": mailbox changed since login: the file is shorter; no messages deleted"};
    }
    if (s.key)
        if (Result r = compare_snapshot_digest(s, digest); !r.ok()) return nothing_deleted_unless(r);
    test_pause("copied");
    if (plan.recheck) {
        struct stat written {};
        if (::fstat(out, &written) != 0) return io_error("fstat " + plan.tmp, errno);
        if (Result r = check_kept_split(out, static_cast<std::uint64_t>(written.st_size), s, deleted); !r.ok())
            return nothing_deleted_unless(r);
    }
    if (::fsync(out) != 0) return io_error("fsync " + plan.tmp, errno);
    test_pause("synced");
    return Result::good();
}

}  // namespace

std::string expunge_temp_path(const std::string& mailbox_path) { return mailbox_path + ":pop3d-new"; }

std::string legacy_expunge_temp_path(const std::string& mailbox_path) { return mailbox_path + ".pop3d new"; }

Result expunge(int fd, const Snapshot& s, const std::vector<bool>& deleted, MailboxLock& lock,
               SpoolPrivilege* privilege) {
    const auto& msgs = *s.messages;
    std::size_t first = 0;
    while (first < msgs.size() && !deleted[first]) ++first;
    if (first == msgs.size()) return Result::good();

    // 1. Still the file we indexed? Its every byte is proved in the pass
    // that copies it (step 3), or here before a truncation.
    if (Result r = validate_snapshot_file(fd, s); !r.ok()) return nothing_deleted_unless(r);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return io_error("fstat " + s.path, errno);
    timespec checked_at {};
    ::clock_gettime(CLOCK_REALTIME, &checked_at);
    const auto file_end = static_cast<std::uint64_t>(st.st_size);

    // 2. Only the last messages go and nothing arrived: cut the file short.
    bool suffix = true;
    for (std::size_t i = first; i < msgs.size(); ++i) suffix = suffix && deleted[i];
    const bool recheck = split_may_change(msgs, deleted);
    if (suffix && file_end == s.end) {
        auto last_touch = std::chrono::steady_clock::now();
        if (Result r = validate_snapshot_content(fd, s, [&] { keep_lock_fresh(lock, last_touch); }); !r.ok())
            return nothing_deleted_unless(r);
        test_pause("proved");
        // Mail appended during the proof would be cut off with the rest.
        if (Result r = unchanged_since(fd, s, st, checked_at); !r.ok()) return nothing_deleted_unless(r);
        test_pause("validated");
        return truncate_at(fd, msgs[first].from_offset, s, deleted, recheck);
    }
    test_pause("validated");

    // 3. Write the new mailbox next to the old one, proving the old one's
    // bytes in the same read; 4. check nobody wrote since step 1.
    const std::string tmp = expunge_temp_path(s.path);
    UniqueFd out;
    if (Result r = create_temp(s.path, st, privilege, out); !r.ok()) return r;
    test_pause("created");
    Result r = write_proved_copy(fd, out.get(), s, deleted, {first, file_end, recheck, tmp}, lock);
    if (r.ok()) r = nothing_deleted_unless(unchanged_since(fd, s, st, checked_at));
    if (!r.ok()) {
        out.reset();
        const PrivilegeScope raised(privilege);  // best effort: cleanup goes on without it
        ::unlink(tmp.c_str());
        return r;
    }
    // Then swap it in, and make the rename itself durable.
    return swap_in(tmp, s.path, privilege);
}

}  // namespace pop3d::mailbox
