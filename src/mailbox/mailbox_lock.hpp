// The mail system's locks on an mbox file: the dotlock MAILBOX.lock (created
// the NFS-safe way: unique file, link(), link count) and an OFD fcntl lock on
// the open file. Both are taken without blocking; when the second is busy the
// first is released before backing off, so we never wait for one lock while
// holding the other (the MDA-deadlock rule, docs/DESIGN.md).
#pragma once

#include "mailbox/maildrop.hpp"

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

namespace pop3d::mailbox {

// Switches to the privilege needed to create and remove files in the spool
// directory (the mail group) and back; the mailbox itself is never read with it.
class SpoolPrivilege {
public:
    virtual ~SpoolPrivilege() = default;
    virtual bool raise() = 0;
    virtual void lower() = 0;
};

// The one way to hold the mail group: raised for this object's lifetime,
// lowered on scope exit. A failed raise is reported, never skipped over:
// a step that needs the group must stop (and say so); only a best-effort
// cleanup may go on without it. nullptr: nothing to switch, always ok.
class PrivilegeScope {
public:
    explicit PrivilegeScope(SpoolPrivilege* p) : p_(p), ok_(!p || p->raise()) {}
    PrivilegeScope(const PrivilegeScope&) = delete;
    PrivilegeScope& operator=(const PrivilegeScope&) = delete;
    ~PrivilegeScope() {
        if (p_ && ok_) p_->lower();
    }
    [[nodiscard]] bool ok() const { return ok_; }

private:
    SpoolPrivilege* p_;
    bool ok_;
};

struct LockSettings {
    std::chrono::milliseconds timeout{10000};  // keep trying this long
    std::chrono::seconds stale_age{300};       // a dotlock older than this is broken
    bool check_pid = true;                     // ...and one whose pid is not running here
    SpoolPrivilege* privilege = nullptr;       // nullptr: no switch needed
};

class MailboxLock {
    struct Key {
        explicit Key() = default;
    };

public:
    // On failure returns nullptr and sets result: in_use (busy until the
    // timeout), perm_fail (cannot create a dotlock there), temp_fail.
    static std::unique_ptr<MailboxLock> acquire(int fd, const std::string& mailbox_path, bool write,
                                                const LockSettings& settings, Result& result);
    MailboxLock(const MailboxLock&) = delete;
    MailboxLock& operator=(const MailboxLock&) = delete;
    ~MailboxLock();

    // Refresh the dotlock's time so others do not judge a long expunge stale.
    void touch();

    // Only acquire() can make one (Key is private).
    MailboxLock(Key, int fd, std::string lock_path, dev_t dev, ino_t ino, SpoolPrivilege* privilege)
        : fd_(fd), lock_path_(std::move(lock_path)), dev_(dev), ino_(ino), privilege_(privilege) {}

private:
    int fd_;
    std::string lock_path_;
    dev_t dev_;
    ino_t ino_;
    SpoolPrivilege* privilege_;
};

}  // namespace pop3d::mailbox
