// Giving up root for good once a user has logged in (inetd and forked
// sessions). The only thing kept is the mail group as the saved group id,
// so that dotlocks can be created in the spool; see docs/DESIGN.md.
#pragma once

#include "auth/account.hpp"
#include "mailbox/mailbox_lock.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace pop3d::priv {

// Group id of `name`, nullopt when empty or unknown.
std::optional<gid_t> lookup_group(const std::string& name);

struct DropResult {
    bool ok = false;
    bool dropped = false;  // false: we were not root, nothing changed
    std::string error;
};

// As root: initgroups, setresgid(gid, gid, spool_gid), setresuid(uid, uid, uid),
// then checks that every id took and that root cannot be regained. Not root:
// succeeds only when the account is the user we already run as. Refuses uid 0.
DropResult drop_to_account(const auth::Account& account, std::optional<gid_t> spool_gid);

// SpoolPrivilege for a process that has dropped: switches the effective gid
// to the saved mail group and back.
class SavedGroupPrivilege final : public mailbox::SpoolPrivilege {
public:
    SavedGroupPrivilege(gid_t user_gid, gid_t spool_gid) : user_gid_(user_gid), spool_gid_(spool_gid) {}
    bool raise() override;
    void lower() override;

private:
    gid_t user_gid_;
    gid_t spool_gid_;
};

}  // namespace pop3d::priv
