// Per-thread credentials for the threaded daemon. glibc's setuid family
// changes every thread of the process; the raw syscalls change only the
// calling thread (Linux keeps credentials per task). After login a session
// thread keeps uid 0 as its real, effective and saved uid and becomes the
// user only for file access (fsuid, fsgid, groups) with no capabilities
// left. Its uids stay root's because kill(), tgkill(), prlimit(), ptrace(),
// setpriority() and sched_setscheduler() check the target thread's uids: a
// thread carrying the user's uid there would let that user stop, kill or
// starve the whole daemon from a shell. See docs/DESIGN.md.
#pragma once

#include "auth/account.hpp"
#include "mailbox/mailbox_lock.hpp"
#include "priv/credentials.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace pop3d::priv {

// For the calling thread only: the user's groups, setresgid(gid, gid,
// spool_gid), setfsuid(uid) (which takes the file capabilities out of the
// effective set), no_new_privs, and an empty capability set (effective,
// permitted, inheritable). Then checks that every id took, that
// ruid = euid = suid = 0 and that no capability can be taken back. What is
// left: setfsuid(0) stays allowed to a thread whose uids are 0; only code
// injected into the process would call it, and such code has root's
// threads in the same address space within reach anyway (process_model =
// fork is the boundary for that).
DropResult drop_thread_to_account(const auth::Account& account, std::optional<gid_t> spool_gid);

// The calling thread's ids, as the kernel has them.
struct ThreadIds {
    uid_t ruid, euid, suid, fsuid;
    gid_t rgid, egid, sgid, fsgid;
};
ThreadIds thread_ids();

// The calling thread's capability sets (bit n = capability n).
struct ThreadCaps {
    std::uint64_t effective, permitted, inheritable;
};
std::optional<ThreadCaps> thread_caps();

// capset for the calling thread only (pid 0), in the 64-bit layout.
bool set_thread_caps(const ThreadCaps& caps);

// The account's groups as initgroups() would set them (NSS), and the
// calling thread's supplementary groups as the kernel has them.
std::vector<gid_t> account_groups(const auth::Account& account);
// The same with getgrouplist() given (tests feed a fake).
using GroupListFn = int (*)(const char* user, gid_t group, gid_t* groups, int* ngroups);
std::vector<gid_t> account_groups(const auth::Account& account, GroupListFn getgrouplist);
std::vector<gid_t> thread_groups();

// Sets the calling thread's fsgid (allowed without a capability when gid
// is its real, effective or saved gid); true when the kernel now has it.
bool set_thread_fsgid(gid_t gid);

}  // namespace pop3d::priv
