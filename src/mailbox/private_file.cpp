#include "mailbox/private_file.hpp"

#include "common/text.hpp"
#include "mailbox/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace pop3d::mailbox {

std::string maildrop_file_stem(const std::string& mailbox_path) {
    Sha256 h;
    h.update(mailbox_path.data(), mailbox_path.size());
    const auto d = h.finish();
    static constexpr char digits[] = "0123456789abcdef";
    std::string name;
    for (std::size_t i = 0; i < 16; ++i) {
        name.push_back(digits[d[i] >> 4]);
        name.push_back(digits[d[i] & 15]);
    }
    return name;
}

std::string private_file_fault(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return text::errno_text(errno);
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (st.st_uid != ::geteuid())
        return "is owned by uid " + std::to_string(st.st_uid) + ", not uid " + std::to_string(::geteuid());
    if ((st.st_mode & 077) != 0) {
        char mode[16];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return std::string("is open to group or others (mode ") + mode + ", not 0600)";
    }
    if (st.st_nlink != 1) return "has " + std::to_string(st.st_nlink) + " links";
    return {};
}

std::string private_file_fault_at(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) return errno == ENOENT ? "" : path + ": " + text::errno_text(errno);
    const std::string fault = private_file_fault(fd.get());
    return fault.empty() ? "" : path + " " + fault;
}

UniqueFd open_private_file(const std::string& path, std::string& error) {
    // O_NOFOLLOW and O_NONBLOCK: a symlink or a FIFO planted there neither
    // leads us elsewhere nor hangs the session.
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd) {
        error = path + ": " + text::errno_text(errno);
        return fd;
    }
    if (const std::string fault = private_file_fault(fd.get()); !fault.empty()) {
        error = path + " " + fault + " (remove it)";
        fd.reset();
    }
    return fd;
}

}  // namespace pop3d::mailbox
