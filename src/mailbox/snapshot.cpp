#include "mailbox/snapshot.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/mbox_grammar.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace pop3d::mailbox {

namespace {

Result changed(const Snapshot& s, const std::string& why) {
    return {Status::changed, s.path + ": mailbox changed since login: " + why};
}

Result check_size(int fd, const Snapshot& s) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {Status::temp_fail, s.path + ": fstat: " + text::errno_text(errno)};
    if (static_cast<std::uint64_t>(st.st_size) < s.end) return changed(s, "the file is shorter");
    return Result::good();
}

}  // namespace

bool from_line_in(const char* bytes, std::size_t len, std::uint64_t offset) {
    if (offset == 0) return mbox::starts_with_from_line(bytes, len);
    return len >= 1 && bytes[0] == '\n' && mbox::starts_with_from_line(bytes + 1, len - 1);
}

Result validate_snapshot_file(int fd, const Snapshot& s) {
    struct stat by_path {};
    if (::lstat(s.path.c_str(), &by_path) != 0 || by_path.st_dev != s.dev || by_path.st_ino != s.ino)
        return changed(s, "the file was replaced");
    return check_size(fd, s);
}

Result validate_snapshot(int fd, const Snapshot& s) {
    if (Result r = validate_snapshot_file(fd, s); !r.ok()) return r;
    // One read for the From_ lines of the messages within kReadChunk of
    // each other, not one per message.
    const MessageIndex& msgs = *s.messages;
    std::unique_ptr<char[]> buf;
    std::uint64_t buf_offset = 0;
    std::size_t buf_len = 0;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        const std::uint64_t probe = from_probe_start(msgs[i].from_offset);
        const std::uint64_t probe_end = msgs[i].from_offset + mbox::kFromLine.size();
        if (!buf || probe < buf_offset || probe_end > buf_offset + buf_len) {
            std::size_t j = i;  // the last message whose From_ line fits in this read
            while (j + 1 < msgs.size() && msgs[j + 1].from_offset + mbox::kFromLine.size() - probe <= kReadChunk) ++j;
            const auto len = static_cast<std::size_t>(std::max<std::uint64_t>(
                std::min<std::uint64_t>(msgs[j].from_offset + mbox::kFromLine.size(), s.end) - probe, std::min<std::uint64_t>(kFromProbe, s.end - probe)));
            // Every read ends within the file: a small one needs no more.
            if (!buf) buf = std::make_unique_for_overwrite<char[]>(std::min<std::uint64_t>(kReadChunk, std::max<std::uint64_t>(s.end, kFromProbe)));
            buf_len = 0;
            if (!pread_full(fd, buf.get(), len, probe))
                return changed(s, "no From_ line at offset " + std::to_string(msgs[i].from_offset));
            buf_offset = probe;
            buf_len = len;
        }
        if (!from_line_in(buf.get() + (probe - buf_offset), static_cast<std::size_t>(buf_offset + buf_len - probe),
                          msgs[i].from_offset))
            return changed(s, "no From_ line at offset " + std::to_string(msgs[i].from_offset));
    }
    return Result::good();
}

// Equal digests say every byte is where it was, From_ lines included: no
// separate pass over them.
Result validate_snapshot_content(int fd, const Snapshot& s, const std::function<void()>& progress) {
    if (!s.key) return validate_snapshot(fd, s);
    if (Result r = validate_snapshot_file(fd, s); !r.ok()) return r;
    ContentDigest digest(*s.key);
    const bool read_ok = read_range(fd, 0, s.end, [&](const char* p, std::size_t n) {
        digest.update(p, n);
        if (progress) progress();
        return true;
    });
    if (!read_ok) return changed(s, "read error while checking its content");
    return compare_snapshot_digest(s, digest);
}

Result compare_snapshot_digest(const Snapshot& s, const ContentDigest& digest) {
    if (digest.finish() != s.digest)
        return changed(s, "the bytes indexed at login are not the same any more (rewritten in place)");
    return Result::good();
}

}  // namespace pop3d::mailbox
