#include "mailbox/snapshot.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"

#include <sys/stat.h>

#include <cstring>

namespace pop3d::mailbox {

namespace {

Result changed(const Snapshot& s, const std::string& why) {
    return {Status::temp_fail, s.path + ": mailbox changed since login: " + why};
}

Result check_size(int fd, const Snapshot& s) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {Status::temp_fail, s.path + ": fstat: " + text::errno_text(errno)};
    if (static_cast<std::uint64_t>(st.st_size) < s.end) return changed(s, "the file is shorter");
    return Result::good();
}

}  // namespace

bool from_line_at(int fd, std::uint64_t offset) {
    char buf[6];
    if (offset == 0) return pread_full(fd, buf, 5, 0) && std::memcmp(buf, "From ", 5) == 0;
    return pread_full(fd, buf, 6, offset - 1) && std::memcmp(buf, "\nFrom ", 6) == 0;
}

Result check_message(int fd, const Snapshot& s, std::size_t i) {
    if (Result r = check_size(fd, s); !r.ok()) return r;
    const std::uint64_t at = (*s.messages)[i].from_offset;
    if (!from_line_at(fd, at)) return changed(s, "no From_ line at offset " + std::to_string(at));
    return Result::good();
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
