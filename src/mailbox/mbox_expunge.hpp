// Removing deleted messages from an mbox file at QUIT. Called with both
// mailbox locks held. Validates the snapshot first; on any mismatch nothing
// is changed.
#pragma once

#include "mailbox/maildrop.hpp"
#include "mailbox/mailbox_lock.hpp"
#include "mailbox/mbox_index.hpp"
#include "mailbox/snapshot.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace pop3d::mailbox {

// Compacts the file in place: kept messages move down over deleted ones,
// mail appended after the snapshot moves with them, the file is truncated and
// fsynced.
Result expunge_in_place(int fd, const Snapshot& snapshot, const std::vector<bool>& deleted, MailboxLock& lock);

}  // namespace pop3d::mailbox
