// Per-thread credentials for the threaded daemon. glibc's setuid family
// changes every thread of the process; the raw syscalls change only the
// calling thread (Linux keeps credentials per task). A session thread uses
// them to become the user for good after login, while the listener and
// other sessions stay as they are. See docs/DESIGN.md.
#pragma once

#include "auth/account.hpp"
#include "mailbox/mailbox_lock.hpp"
#include "priv/credentials.hpp"

#include <optional>

namespace pop3d::priv {

// Like drop_to_account(), for the calling thread only: the user's groups,
// setresgid(gid, gid, spool_gid), setresuid(uid, uid, uid), then checks that
// every id took and that root cannot be regained by this thread.
DropResult drop_thread_to_account(const auth::Account& account, std::optional<gid_t> spool_gid);

// The calling thread's ids, as the kernel has them.
struct ThreadIds {
    uid_t ruid, euid, suid, fsuid;
    gid_t rgid, egid, sgid, fsgid;
};
ThreadIds thread_ids();

}  // namespace pop3d::priv
