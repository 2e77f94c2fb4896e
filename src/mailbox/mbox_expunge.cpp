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
#include <cstring>
#include <memory>

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

// Copies [src, src+len) of `in` to the end of `out` in the kernel
// (copy_file_range), or through a buffer where the kernel cannot.
bool copy_range(int in, std::uint64_t src, std::uint64_t len, int out, std::uint64_t& dst, MailboxLock& lock,
                std::chrono::steady_clock::time_point& last_touch) {
    bool kernel_copy = true;
    while (len > 0) {
        const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(len, 8 * 1024 * 1024));
        ssize_t n = -1;
        if (kernel_copy) {
            auto in_off = static_cast<off64_t>(src);
            auto out_off = static_cast<off64_t>(dst);
            n = ::copy_file_range(in, &in_off, out, &out_off, chunk, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                kernel_copy = false;
                continue;
            }
            if (n == 0) {  // the source is shorter than the snapshot says
                errno = EIO;
                return false;
            }
        } else {
            auto buf = std::make_unique_for_overwrite<char[]>(chunk);
            if (!pread_full(in, buf.get(), chunk, src)) {
                if (errno == 0) errno = EIO;
                return false;
            }
            n = pwrite_full(out, buf.get(), chunk, dst) ? static_cast<ssize_t>(chunk) : -1;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        src += static_cast<std::uint64_t>(n);
        dst += static_cast<std::uint64_t>(n);
        len -= static_cast<std::uint64_t>(n);
        keep_lock_fresh(lock, last_touch);
    }
    return true;
}

// Appends the kept parts of the mailbox, in order, to the new file. A
// large part goes through copy_range; small ones (most messages) are
// gathered through a window of the old file into an output buffer, so
// that keeping every other of 60,000 messages costs a few hundred system
// calls, not one or two per message.
class KeptWriter {
public:
    static constexpr std::size_t kBuffer = 1024 * 1024;
    // A small mailbox gets buffers its own size, not 2 MiB to touch and free.
    KeptWriter(int in, int out, std::uint64_t file_size, MailboxLock& lock)
        : in_(in), out_(out), lock_(lock),
          cap_(static_cast<std::size_t>(std::clamp<std::uint64_t>((file_size + 4095) / 4096 * 4096, 4096, kBuffer))) {}

    bool append(std::uint64_t src, std::uint64_t len) {
        if (len >= kBuffer) return flush() && copy_range(in_, src, len, out_, dst_, lock_, last_touch_);
        while (len > 0) {
            if (!(window_ && src >= window_offset_ && src < window_offset_ + window_len_) && !fill(src)) return false;
            const std::size_t avail = static_cast<std::size_t>(window_offset_ + window_len_ - src);
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({len, avail, cap_ - used_}));
            std::memcpy(out_buf_.get() + used_, window_.get() + (src - window_offset_), n);
            used_ += n;
            src += n;
            len -= n;
            if (used_ == cap_ && !flush()) return false;
        }
        return true;
    }

    bool flush() {
        if (used_ == 0) return true;
        if (!pwrite_full(out_, out_buf_.get(), used_, dst_)) return false;
        dst_ += used_;
        used_ = 0;
        keep_lock_fresh(lock_, last_touch_);
        return true;
    }

private:
    bool fill(std::uint64_t src) {
        if (!window_) {
            window_ = std::make_unique_for_overwrite<char[]>(cap_);
            out_buf_ = std::make_unique_for_overwrite<char[]>(cap_);
        }
        window_len_ = 0;
        for (;;) {  // as much as the file has, up to the window's size
            const ssize_t n = ::pread(in_, window_.get(), cap_, static_cast<off_t>(src));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (n == 0) errno = EIO;  // shorter than the snapshot says
                return false;
            }
            window_offset_ = src;
            window_len_ = static_cast<std::size_t>(n);
            return true;
        }
    }

    int in_, out_;
    MailboxLock& lock_;
    const std::size_t cap_;  // of each buffer
    std::chrono::steady_clock::time_point last_touch_ = std::chrono::steady_clock::now();
    std::uint64_t dst_ = 0;
    std::unique_ptr<char[]> window_, out_buf_;
    std::uint64_t window_offset_ = 0;
    std::size_t window_len_ = 0;
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

// Step 3's copy: the kept messages, then the mail delivered since the
// snapshot. Runs of kept messages are copied as one range each. On false
// err is the errno of the failure (read before the writer goes).
bool write_kept(int fd, int out, const Snapshot& s, const std::vector<bool>& deleted, std::size_t first,
                std::uint64_t file_end, MailboxLock& lock, int& err) {
    const auto& msgs = *s.messages;
    KeptWriter writer(fd, out, file_end, lock);
    std::uint64_t run_start = 0, run_end = msgs[first].from_offset;
    for (std::size_t i = first + 1; i < msgs.size(); ++i) {
        if (deleted[i]) continue;
        const std::uint64_t start = msgs[i].from_offset;
        const std::uint64_t end = i + 1 < msgs.size() ? msgs[i + 1].from_offset : s.end;
        if (start != run_end && !writer.append(run_start, run_end - run_start)) {
            err = errno;
            return false;
        }
        if (start != run_end) run_start = start;
        run_end = end;
        if (i == (first + msgs.size()) / 2) test_pause("copying");
    }
    if (file_end > s.end) {
        if (run_end != s.end && !writer.append(run_start, run_end - run_start)) {
            err = errno;
            return false;
        }
        if (run_end != s.end) run_start = s.end;
        run_end = file_end;
    }
    if (writer.append(run_start, run_end - run_start) && writer.flush()) return true;
    err = errno;
    return false;
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

    // 1. Still the file we indexed, every byte of it?
    auto last_touch = std::chrono::steady_clock::now();
    if (Result r = validate_snapshot_content(fd, s, [&] { keep_lock_fresh(lock, last_touch); }); !r.ok())
        return {r.status, r.detail + "; no messages deleted"};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return io_error("fstat " + s.path, errno);
    const auto file_end = static_cast<std::uint64_t>(st.st_size);
    test_pause("validated");

    // 2. Only the last messages go and nothing arrived: cut the file short.
    bool suffix = true;
    for (std::size_t i = first; i < msgs.size(); ++i) suffix = suffix && deleted[i];
    const bool recheck = split_may_change(msgs, deleted);
    if (suffix && file_end == s.end) return truncate_at(fd, msgs[first].from_offset, s, deleted, recheck);

    // 3. Write the new mailbox next to the old one.
    const std::string tmp = expunge_temp_path(s.path);
    UniqueFd out;
    if (Result r = create_temp(s.path, st, privilege, out); !r.ok()) return r;
    auto remove_tmp = [&] {
        out.reset();
        const PrivilegeScope raised(privilege);  // best effort: cleanup goes on without it
        ::unlink(tmp.c_str());
    };
    auto discard = [&](const std::string& what, int err) {
        remove_tmp();
        return io_error(what, err);
    };
    test_pause("created");

    if (int err = 0; !write_kept(fd, out.get(), s, deleted, first, file_end, lock, err))
        return discard("writing " + tmp, err);
    test_pause("copied");
    if (recheck) {
        struct stat written {};
        if (::fstat(out.get(), &written) != 0) return discard("fstat " + tmp, errno);
        if (Result r = check_kept_split(out.get(), static_cast<std::uint64_t>(written.st_size), s, deleted); !r.ok()) {
            remove_tmp();
            return {r.status, r.detail + "; no messages deleted"};
        }
    }
    if (::fsync(out.get()) != 0) return discard("fsync " + tmp, errno);
    test_pause("synced");

    // 4. Swap it in, then make the rename itself durable.
    if (Result r = validate_snapshot(fd, s); !r.ok()) {
        remove_tmp();
        return {r.status, r.detail + "; no messages deleted"};
    }
    return swap_in(tmp, s.path, privilege);
}

}  // namespace pop3d::mailbox
