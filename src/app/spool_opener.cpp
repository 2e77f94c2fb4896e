#include "app/spool_opener.hpp"

#include "app/mailbox_path.hpp"
#include "common/text.hpp"
#include "log/events.hpp"
#include "mailbox/mbox_maildrop.hpp"
#include "mailbox/session_lock.hpp"
#include "priv/thread_credentials.hpp"

#include <sys/stat.h>

namespace pop3d::app {

namespace {

// The per-maildrop session lock. A directory we cannot use is logged and
// the session goes on without it: the snapshot checks still keep mail safe.
std::unique_ptr<mailbox::SessionLock> lock_session(const std::string& dir, const std::string& path,
                                                   mailbox::Result& result) {
    result = mailbox::Result::good();
    if (dir.empty()) return nullptr;
    auto lock = mailbox::SessionLock::acquire(dir, path, result);
    if (!lock && result.status == mailbox::Status::temp_fail && ::mkdir(dir.c_str(), 0700) == 0)
        lock = mailbox::SessionLock::acquire(dir, path, result);
    if (!lock && result.status == mailbox::Status::temp_fail) {
        log::write(log::event::no_session_lock, result.detail);
        result = mailbox::Result::good();
    }
    return lock;
}

}  // namespace

bool mail_group_grants_write(const std::string& dir, gid_t gid) {
    struct stat st {};
    return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_gid == gid && (st.st_mode & S_IWGRP) &&
           !(st.st_mode & S_IWOTH);
}

session::OpenResult SpoolOpener::open(const auth::Account& account) {
    session::OpenResult out;
    const auto path = expand_mailbox_path(config_.mailbox, account);
    if (!path) {
        out.result = {mailbox::Status::perm_fail, "mailbox pattern gives no safe path for " + account.name};
        return out;
    }
    auto session_lock = lock_session(config_.session_lock_dir, *path, out.result);
    if (!out.result.ok()) return out;
    // LOGIN-DELAY: the previous login's time is the session lock file's mtime.
    if (config_.login_delay > 0 && session_lock) {
        const auto last = session_lock->last_login();
        const std::time_t now = std::time(nullptr);
        if (last && now >= *last && now - *last < static_cast<std::time_t>(config_.login_delay)) {
            out.result = {mailbox::Status::too_soon, "last login " + std::to_string(now - *last) + " s ago, login_delay is " +
                                                         std::to_string(config_.login_delay) + " s"};
            return out;
        }
    }

    const std::optional<gid_t> spool_gid = priv::lookup_group(config_.mail_group);
    if (!config_.mail_group.empty() && !spool_gid)
        log::write(log::event::no_mail_group, "'" + config_.mail_group + "'; dotlocks need a writable spool");
    // Keep the mail group (as the saved gid) only when the spool needs it.
    const std::optional<gid_t> keep =
        spool_gid && *spool_gid != account.gid && mail_group_grants_write(text::parent_of(*path), *spool_gid) ? spool_gid : std::nullopt;
    const priv::DropResult drop = scope_ == priv::Scope::thread ? priv::drop_thread_to_account(account, keep)
                                                                : priv::drop_to_account(account, keep);
    if (!drop.ok) {
        out.result = {mailbox::Status::perm_fail, drop.error};
        return out;
    }
    if (drop.dropped && keep)
        privilege_ = std::make_unique<priv::SavedGroupPrivilege>(scope_, account.gid, *keep);

    mailbox::MboxOptions options;
    options.path = *path;
    options.owner = account.uid;
    options.unquote = config_.mbox_unquote;
    options.max_messages = config_.max_messages;
    options.lock.timeout = std::chrono::seconds(config_.lock_timeout);
    options.lock.stale_age = std::chrono::seconds(config_.dotlock_stale_age);
    options.lock.check_pid = config_.dotlock_check_pid;
    options.lock.privilege = privilege_.get();
    auto maildrop = mailbox::MboxMaildrop::open(options, out.result);
    if (maildrop) {
        if (session_lock) session_lock->record_login(*path);
        maildrop->hold(std::move(session_lock));
        out.maildrop = std::move(maildrop);
    }
    return out;
}

}  // namespace pop3d::app
