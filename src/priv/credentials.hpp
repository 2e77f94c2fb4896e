// Becoming the user once a user has logged in: for good for the whole
// process (inetd and forked sessions), or for the session thread (threaded
// daemon, thread_credentials.hpp). The only thing kept is the mail group as
// the saved group id, so that dotlocks can be created in the spool; see
// docs/DESIGN.md.
#pragma once

#include "auth/account.hpp"
#include "mailbox/mailbox_lock.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace pop3d::priv {

// Group id of `name`, nullopt when empty or unknown.
std::optional<gid_t> lookup_group(const std::string& name);

struct DropResult {
    bool ok = false;
    bool dropped = false;  // false: we were not root, nothing changed
    std::string error;
};

// Whether credentials change for the whole process (inetd, fork) or only
// for the calling thread (threaded daemon, raw syscalls).
enum class Scope { process, thread };

// The one step after which the session no longer runs as root: the process
// drop or the thread drop by `scope`, each verified by verify_dropped.
// spool_gid: the mail group to keep as saved gid (SavedGroupPrivilege).
DropResult become_user(const auth::Account& account, Scope scope, std::optional<gid_t> spool_gid);

// The checks both drops make before changing anything: uid 0 is never
// served, and without root only our own uid can be. Returns true when the
// caller should go on and switch ids; otherwise `out` is the final answer.
bool drop_needed(const auth::Account& account, DropResult& out);
// The first steps of both drops: drop_needed, the account's groups
// (account_groups), then setresgid(gid, gid, keep = spool_gid or gid);
// glibc's calls for the whole process, raw syscalls for the calling thread
// alone. nullopt when the drop ends here (`out` is the answer).
struct DropStart {
    gid_t keep;
    std::vector<gid_t> groups;  // what was set (verify_dropped compares)
};
std::optional<DropStart> start_drop(const auth::Account& account, std::optional<gid_t> spool_gid, Scope scope,
                                    DropResult& out);

// As root: initgroups, setresgid(gid, gid, spool_gid), setresuid(uid, uid, uid),
// then checks that every id took and that root cannot be regained. Not root:
// succeeds only when the account is the user we already run as. Refuses uid 0.
DropResult drop_to_account(const auth::Account& account, std::optional<gid_t> spool_gid);

// The one verification after either drop, read back from the kernel for
// the calling thread; empty when all holds, else what is wrong. Both: the
// uids (process: the user's in all four; thread: 0 real, effective and
// saved, the user's fsuid; see thread_credentials.hpp), gids (the user's,
// saved = keep), `groups` as the supplementary groups, no effective or
// permitted capability. Then root must not come back: process: setuid(0)
// and seteuid(0) fail; thread: no inheritable capability, no_new_privs set,
// and capset of CAP_DAC_OVERRIDE fails.
std::string verify_dropped(const auth::Account& account, gid_t keep, const std::vector<gid_t>& groups, Scope scope);

// SpoolPrivilege after a drop: switches to the saved mail group and back,
// in the given scope: the effective gid of the process, or the fsgid of a
// session thread.
class SavedGroupPrivilege final : public mailbox::SpoolPrivilege {
public:
    SavedGroupPrivilege(Scope scope, gid_t user_gid, gid_t spool_gid)
        : scope_(scope), user_gid_(user_gid), spool_gid_(spool_gid) {}
    bool raise() override;
    void lower() override;

private:
    bool set_group(gid_t gid);
    Scope scope_;
    gid_t user_gid_;
    gid_t spool_gid_;
};

}  // namespace pop3d::priv
