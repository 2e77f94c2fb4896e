// Removing deleted messages from an mbox file at QUIT, crash-safe. Called
// with both mailbox locks held. The steps (docs/DESIGN.md, "Expunge"):
//   1. validate the snapshot; on any mismatch nothing is changed;
//   2. deletions only at the end and nothing appended: ftruncate + fsync;
//   3. otherwise write the kept messages and the mail appended since the
//      snapshot to MAILBOX:pop3d-new (a name no user name can produce),
//      give it the mailbox's owner, group and mode, fsync it,
//   4. rename() it over the mailbox and fsync the directory.
// A crash at any instant leaves the old file or the new one, both whole.
// A write error (ENOSPC, EDQUOT, EIO) removes the new file and deletes
// nothing.
#pragma once

#include "mailbox/mailbox_lock.hpp"
#include "mailbox/maildrop.hpp"
#include "mailbox/snapshot.hpp"

#include <string>
#include <vector>

namespace pop3d::mailbox {

// Where step 3 writes, next to the mailbox: MAILBOX:pop3d-new. No user name
// has a ':' (the passwd field separator), so no user's mailbox or lock can
// have this name; nor has it a space for shells and log parsers to split.
std::string expunge_temp_path(const std::string& mailbox_path);
// The name earlier builds used ("MAILBOX.pop3d new"): a file left there by a
// crash is removed like one at the current name. Remove after 0.2.
std::string legacy_expunge_temp_path(const std::string& mailbox_path);

Result expunge(int fd, const Snapshot& snapshot, const std::vector<bool>& deleted, MailboxLock& lock,
               SpoolPrivilege* privilege);

}  // namespace pop3d::mailbox
