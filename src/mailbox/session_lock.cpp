#include "mailbox/session_lock.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace pop3d::mailbox {

std::string SessionLock::file_name(const std::string& mailbox_path) {
    Sha256 h;
    h.update(mailbox_path.data(), mailbox_path.size());
    const auto d = h.finish();
    static constexpr char digits[] = "0123456789abcdef";
    std::string name;
    for (std::size_t i = 0; i < 16; ++i) {
        name.push_back(digits[d[i] >> 4]);
        name.push_back(digits[d[i] & 15]);
    }
    return name + ".session";
}

namespace {

// What is wrong with an open lock file, or "" when it is the private file we
// make: anyone else who can open it could hold its lock (denying the
// maildrop) or rewrite it (its mtime is the last login, for LOGIN-DELAY).
std::string lock_file_fault(int fd) {
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

}  // namespace

std::string SessionLock::file_fault(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) return errno == ENOENT ? "" : path + ": " + text::errno_text(errno);
    const std::string fault = lock_file_fault(fd.get());
    return fault.empty() ? "" : path + " " + fault;
}

std::unique_ptr<SessionLock> SessionLock::acquire(const std::string& dir, const std::string& mailbox_path,
                                                  Result& result) {
    const std::string path = dir + "/" + file_name(mailbox_path);
    // O_NOFOLLOW and O_NONBLOCK: a symlink or a FIFO planted there neither
    // leads us elsewhere nor hangs the session.
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd) {
        result = {Status::temp_fail, "session lock " + path + ": " + text::errno_text(errno)};
        return nullptr;
    }
    if (const std::string fault = lock_file_fault(fd.get()); !fault.empty()) {
        result = {Status::temp_fail, "session lock " + path + " " + fault + " (remove it)"};
        return nullptr;
    }
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd.get(), F_OFD_SETLK, &fl) != 0) {
        if (errno == EAGAIN || errno == EACCES)
            result = {Status::in_use, mailbox_path + " is open in another POP3 session"};
        else
            result = {Status::temp_fail, "session lock " + path + ": " + text::errno_text(errno)};
        return nullptr;
    }
    result = Result::good();
    return std::make_unique<SessionLock>(Key{}, std::move(fd));
}

std::optional<std::time_t> SessionLock::last_login() const {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0 || st.st_size == 0) return std::nullopt;  // never written: no login yet
    return st.st_mtime;
}

void SessionLock::record_login(const std::string& mailbox_path) {
    // The path, for the admin who wonders what the file is; the write sets the mtime.
    const std::string note = mailbox_path + "\n";
    if (::ftruncate(fd_.get(), 0) == 0) pwrite_full(fd_.get(), note.data(), note.size(), 0);
}

}  // namespace pop3d::mailbox
