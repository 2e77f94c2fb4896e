#include "mailbox/mbox_expunge.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>

namespace pop3d::mailbox {

Result expunge_in_place(int fd, const Snapshot& s, const std::vector<bool>& deleted, MailboxLock& lock) {
    const auto& msgs = *s.messages;
    std::size_t first = 0;
    while (first < msgs.size() && !deleted[first]) ++first;
    if (first == msgs.size()) return Result::good();

    if (Result r = validate_snapshot(fd, s); !r.ok()) return r;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {Status::temp_fail, "fstat: " + text::errno_text(errno)};
    const auto file_end = static_cast<std::uint64_t>(st.st_size);

    constexpr std::size_t kChunk = 1024 * 1024;
    auto buf = std::make_unique_for_overwrite<char[]>(kChunk);
    auto last_touch = std::chrono::steady_clock::now();
    std::uint64_t dst = msgs[first].from_offset;
    // Moves [src, src+len) down to dst (dst <= src), front to back.
    auto move_down = [&](std::uint64_t src, std::uint64_t len) -> bool {
        while (len > 0) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, kChunk));
            if (!pread_full(fd, buf.get(), n, src) || !pwrite_full(fd, buf.get(), n, dst)) return false;
            src += n;
            dst += n;
            len -= n;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_touch > std::chrono::seconds(30)) {
                lock.touch();
                last_touch = now;
            }
        }
        return true;
    };

    // After the first deleted message every kept one lies above dst.
    for (std::size_t i = first + 1; i < msgs.size(); ++i) {
        if (deleted[i]) continue;
        const std::uint64_t start = msgs[i].from_offset;
        const std::uint64_t end = i + 1 < msgs.size() ? msgs[i + 1].from_offset : s.end;
        if (!move_down(start, end - start))
            return {Status::temp_fail, "I/O error while expunging: " + text::errno_text(errno)};
    }
    // Mail delivered since the snapshot follows the kept messages.
    if (file_end > s.end && !move_down(s.end, file_end - s.end))
        return {Status::temp_fail, "I/O error while keeping new mail: " + text::errno_text(errno)};
    if (::ftruncate(fd, static_cast<off_t>(dst)) != 0)
        return {Status::temp_fail, "ftruncate: " + text::errno_text(errno)};
    if (::fsync(fd) != 0) return {Status::temp_fail, "fsync: " + text::errno_text(errno)};
    return Result::good();
}

}  // namespace pop3d::mailbox
