#include "app/spool_opener.hpp"

#include "app/mailbox_path.hpp"
#include "log/log.hpp"
#include "mailbox/mbox_maildrop.hpp"

namespace pop3d::app {

session::OpenResult DroppingSpoolOpener::open(const auth::Account& account) {
    session::OpenResult out;
    const auto path = expand_mailbox_path(config_.mailbox, account);
    if (!path) {
        out.result = {mailbox::Status::perm_fail, "mailbox pattern gives no safe path for " + account.name};
        return out;
    }
    const std::optional<gid_t> spool_gid = priv::lookup_group(config_.mail_group);
    if (!config_.mail_group.empty() && !spool_gid)
        log::warning("mail_group '" + config_.mail_group + "' does not exist; dotlocks need a writable spool");

    const priv::DropResult drop = priv::drop_to_account(account, spool_gid);
    if (!drop.ok) {
        out.result = {mailbox::Status::perm_fail, drop.error};
        return out;
    }
    if (drop.dropped && spool_gid && *spool_gid != account.gid)
        privilege_ = std::make_unique<priv::SavedGroupPrivilege>(account.gid, *spool_gid);

    mailbox::MboxOptions options;
    options.path = *path;
    options.owner = account.uid;
    options.unquote = config_.mbox_unquote;
    options.lock.timeout = std::chrono::seconds(config_.lock_timeout);
    options.lock.stale_age = std::chrono::seconds(config_.dotlock_stale_age);
    options.lock.privilege = privilege_.get();
    out.maildrop = mailbox::MboxMaildrop::open(options, out.result);
    return out;
}

}  // namespace pop3d::app
