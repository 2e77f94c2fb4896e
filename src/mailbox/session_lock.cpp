#include "mailbox/session_lock.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace pop3d::mailbox {

std::string SessionLock::file_name(const std::string& mailbox_path) {
    return maildrop_file_stem(mailbox_path) + ".session";
}

std::string SessionLock::file_fault(const std::string& path) { return private_file_fault_at(path); }

std::unique_ptr<SessionLock> SessionLock::acquire(const std::string& dir, const std::string& mailbox_path,
                                                  Result& result) {
    const std::string path = dir + "/" + file_name(mailbox_path);
    std::string error;
    UniqueFd fd = open_private_file(path, error);
    if (!fd) {
        result = {Status::temp_fail, "session lock " + error};
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
