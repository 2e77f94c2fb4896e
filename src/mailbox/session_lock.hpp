// One session per maildrop, across threads and processes: an OFD lock on a
// file in a runtime directory (never on the mailbox, so MDAs are not
// blocked). The kernel drops it when the holder's fd closes, so a killed
// session leaves nothing for an admin to clean up.
#pragma once

#include "common/unique_fd.hpp"
#include "mailbox/maildrop.hpp"

#include <ctime>
#include <memory>
#include <optional>
#include <string>

namespace pop3d::mailbox {

class SessionLock {
    struct Key {
        explicit Key() = default;
    };

public:
    SessionLock(Key, UniqueFd fd) : fd_(std::move(fd)) {}

    // Locks DIR/<hash of mailbox_path>.session without waiting. nullptr with
    // result in_use when another session holds it, temp_fail when the
    // directory cannot be used or the file is not the private one we make
    // (a regular file of our euid, mode 0600, one link), as the runtime
    // files are checked.
    static std::unique_ptr<SessionLock> acquire(const std::string& dir, const std::string& mailbox_path,
                                                Result& result);
    // The lock file's name for a mailbox path (a hash: paths may be long).
    static std::string file_name(const std::string& mailbox_path);
    // Why acquire() would not use the existing file at path ("" when it
    // would, or there is none): pop3d -t. Only reads.
    static std::string file_fault(const std::string& path);

    // When the previous login to this maildrop happened (the lock file's
    // mtime), for LOGIN-DELAY; nullopt for the first one.
    std::optional<std::time_t> last_login() const;
    // Marks this login (writes the mailbox path into the file, for admins).
    void record_login(const std::string& mailbox_path);

private:
    UniqueFd fd_;
};

}  // namespace pop3d::mailbox
