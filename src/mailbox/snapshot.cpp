#include "mailbox/snapshot.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"

#include <sys/stat.h>

#include <cstring>

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
    if (offset == 0) return len >= 5 && std::memcmp(bytes, "From ", 5) == 0;
    return len >= 6 && std::memcmp(bytes, "\nFrom ", 6) == 0;
}

bool from_line_at(int fd, std::uint64_t offset) {
    char buf[kFromProbe];
    const std::size_t len = offset == 0 ? 5 : 6;
    return pread_full(fd, buf, len, from_probe_start(offset)) && from_line_in(buf, len, offset);
}

Result validate_snapshot(int fd, const Snapshot& s) {
    struct stat by_path {};
    if (::lstat(s.path.c_str(), &by_path) != 0 || by_path.st_dev != s.dev || by_path.st_ino != s.ino)
        return changed(s, "the file was replaced");
    if (Result r = check_size(fd, s); !r.ok()) return r;
    for (const MessageEntry& m : *s.messages)
        if (!from_line_at(fd, m.from_offset))
            return changed(s, "no From_ line at offset " + std::to_string(m.from_offset));
    return Result::good();
}

}  // namespace pop3d::mailbox
