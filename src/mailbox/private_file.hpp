// The files pop3d keeps per maildrop outside the spool (the session lock,
// the saved index): named by a hash of the mailbox path, opened as root
// before the session becomes the user, and used only when they are the
// private files we make. Anyone else who could open one could hold its lock
// (denying the maildrop), fake the last login, or feed a session an index.
#pragma once

#include "common/unique_fd.hpp"

#include <string>

namespace pop3d::mailbox {

// 32 hex digits of SHA-256 of the mailbox path (paths may be long); the
// kinds of file add their own suffix.
std::string maildrop_file_stem(const std::string& mailbox_path);

// What is wrong with an open file of ours, or "" when it is a regular file
// of our euid, mode 0600 (nothing for group or others), one link.
std::string private_file_fault(int fd);

// The same for the file at path, opened read-only ("" also when there is
// none): pop3d -t. Only reads.
std::string private_file_fault_at(const std::string& path);

// Opens (creating it 0600) the file at path for reading and writing,
// without following a symlink or hanging on a FIFO. An invalid fd, with
// why in `error`, when it cannot be opened or fails private_file_fault().
UniqueFd open_private_file(const std::string& path, std::string& error);

}  // namespace pop3d::mailbox
