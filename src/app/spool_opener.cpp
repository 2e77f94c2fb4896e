#include "app/spool_opener.hpp"

#include "app/mailbox_path.hpp"
#include "common/text.hpp"
#include "log/events.hpp"
#include "mailbox/mbox_maildrop.hpp"
#include "mailbox/session_lock.hpp"

#include <sys/stat.h>

#include <atomic>

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

// The maildrop's saved index, opened as root like the session lock. Without
// it the session indexes and hashes the whole mailbox; that is logged (once
// per process: every session would say the same).
std::unique_ptr<mailbox::IndexCache> open_index_cache(const std::string& dir, const std::string& path) {
    if (dir.empty()) return nullptr;
    mailbox::Result result;
    auto cache = mailbox::IndexCache::open(dir, path, result);
    if (!cache && ::mkdir(dir.c_str(), 0700) == 0) cache = mailbox::IndexCache::open(dir, path, result);
    static std::atomic<bool> told{false};
    if (!cache && !told.exchange(true)) log::write(log::event::no_index_cache, result.detail);
    return cache;
}

}  // namespace

bool mail_group_grants_write(const std::string& dir, gid_t gid) {
    struct stat st {};
    return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_gid == gid && (st.st_mode & S_IWGRP) &&
           !(st.st_mode & S_IWOTH);
}

// The privilege lifetime of a session, top to bottom. As root: the
// mailbox path, the session lock, LOGIN-DELAY, which group to keep. Then
// become_user: root ends here for this session (process or thread). As the
// user: the mailbox, with the mail group only inside PrivilegeScope.
session::OpenResult SpoolOpener::open(const auth::Account& account) {
    session::OpenResult out;
    const auto path = expand_mailbox_path(config_.mailbox, account);
    if (!path) {
        out.result = {mailbox::Status::perm_fail, "mailbox pattern gives no safe path for " + account.name};
        return out;
    }
    auto session_lock = lock_session(config_.session_lock_dir, *path, out.result);
    if (!out.result.ok() || login_too_soon(session_lock.get(), out.result)) return out;
    auto index_cache = open_index_cache(config_.index_cache_dir, *path);
    const std::optional<gid_t> keep = mail_group_to_keep(account, *path);
    if (!become_user(account, keep, out.result)) return out;
    open_mailbox(account, *path, {std::move(session_lock), std::move(index_cache)}, out);
    return out;
}

// LOGIN-DELAY: the previous login's time is the session lock file's mtime.
bool SpoolOpener::login_too_soon(const mailbox::SessionLock* session_lock, mailbox::Result& result) const {
    if (config_.login_delay == 0 || !session_lock) return false;
    const auto last = session_lock->last_login();
    const std::time_t now = std::time(nullptr);
    if (!last || now < *last || now - *last >= static_cast<std::time_t>(config_.login_delay)) return false;
    result = {mailbox::Status::too_soon, "last login " + std::to_string(now - *last) + " s ago, login_delay is " +
                                             std::to_string(config_.login_delay) + " s"};
    return true;
}

// The mail group is kept (as the saved gid) only when the spool needs it.
std::optional<gid_t> SpoolOpener::mail_group_to_keep(const auth::Account& account, const std::string& path) const {
    const std::optional<gid_t> spool_gid = priv::lookup_group(config_.mail_group);
    if (!config_.mail_group.empty() && !spool_gid)
        log::write(log::event::no_mail_group, "'" + config_.mail_group + "'; dotlocks need a writable spool");
    if (spool_gid && *spool_gid != account.gid && mail_group_grants_write(text::parent_of(path), *spool_gid))
        return spool_gid;
    return std::nullopt;
}

bool SpoolOpener::become_user(const auth::Account& account, std::optional<gid_t> keep, mailbox::Result& result) {
    const priv::DropResult drop = priv::become_user(account, scope_, keep);
    if (!drop.ok) {
        result = {mailbox::Status::perm_fail, drop.error};
        return false;
    }
    if (drop.dropped && keep) privilege_ = std::make_unique<priv::SavedGroupPrivilege>(scope_, account.gid, *keep);
    return true;
}

void SpoolOpener::open_mailbox(const auth::Account& account, const std::string& path, MaildropFiles files,
                               session::OpenResult& out) {
    mailbox::MboxOptions options;
    options.path = path;
    options.owner = account.uid;
    options.unquote = config_.mbox_unquote;
    options.max_messages = config_.max_messages;
    options.compat = {.peer = config_.uidl_compat, .until = config_.uidl_compat_until.value};
    options.lock.timeout = std::chrono::seconds(config_.lock_timeout);
    options.lock.stale_age = std::chrono::seconds(config_.dotlock_stale_age);
    options.lock.check_pid = config_.dotlock_check_pid;
    options.lock.privilege = privilege_.get();
    auto maildrop = mailbox::MboxMaildrop::open(options, out.result, std::move(files.index_cache));
    if (!maildrop) return;
    if (files.session_lock) files.session_lock->record_login(path);
    maildrop->hold(std::move(files.session_lock));
    out.maildrop = std::move(maildrop);
}

}  // namespace pop3d::app
