// pop3d -t: who pop3d runs as, and where the mailboxes are: whether the
// directory the pattern names exists and whether a session could create its
// dotlock there (USER.lock, and the expunge's temporary file beside it).
#include "app/mailbox_path.hpp"
#include "app/self_check_parts.hpp"
#include "app/spool_opener.hpp"
#include "common/filesystem_kind.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"

#include <unistd.h>

namespace pop3d::app::check {

namespace {

// Where the mailbox pattern puts the mailboxes.
struct Layout {
    std::string fixed;       // the directory before the first component with %u or %h; "" for %h/...
    bool one_spool = false;  // %u or %h in the last component only: `fixed` holds every mailbox
};

Layout layout_of(const std::string& pattern) {
    Layout l;
    std::string fixed;           // the pattern so far, %% undone
    std::size_t component = 0;   // where the last '/' is in `fixed`
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size()) {
            if (pattern[i + 1] == '%') {
                fixed.push_back('%');
                ++i;
                continue;
            }
            if (!fixed.empty()) l.fixed = component == 0 ? "/" : fixed.substr(0, component);
            l.one_spool = pattern.find('/', i) == std::string::npos;
            return l;
        }
        if (pattern[i] == '/') component = fixed.size();
        fixed.push_back(pattern[i]);
    }
    return l;  // no %u or %h: the parser refuses such a pattern
}

// The one account a pop3d that is not root can serve (auth::never_served).
std::optional<auth::Account> own_account() {
    auth::Account user;
    if (nss::user_by_uid(::geteuid(), user) != nss::Lookup::found) return std::nullopt;
    return user;
}

std::string who(uid_t uid) {
    const std::string name = user_name(uid);
    return name.starts_with("uid ") ? name : name + " (uid " + std::to_string(uid) + ")";
}

// Exists, is a directory, and no one but root can swap the mailboxes in it.
std::optional<struct stat> examine_dir(const std::string& label, const std::string& dir, const std::string& without,
                                       CheckReport& r) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        r.error(label + dir + " does not exist: " + without);
        return std::nullopt;
    }
    if (!S_ISDIR(st.st_mode)) {
        r.error(dir + " is not a directory: " + without);
        return std::nullopt;
    }
    r.ok(label + dir + " is " + describe(st));
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        r.warning(dir + " is owned by uid " + std::to_string(st.st_uid) +
                  ", not root: that user can replace anyone's mailbox");
    if (st.st_mode & S_IWOTH && !(st.st_mode & S_ISVTX)) r.warning(dir + " is world-writable without the sticky bit");
    return st;
}

// Shared storage: dotlocks hold another host's pids, and only a shared
// session_lock_dir keeps one session per maildrop across the hosts.
void shared_filesystem(const config::Config& c, const std::string& dir, CheckReport& r) {
    if (!on_shared_filesystem(dir)) return;
    r.ok(dir + " is on a shared filesystem: only their age makes dotlocks there stale");
    if (c.session_lock_dir.empty() || !on_shared_filesystem(c.session_lock_dir))
        r.warning("the spool is shared, but session_lock_dir " +
                  (c.session_lock_dir.empty() ? std::string("is off") : c.session_lock_dir + " is local") +
                  ": a session on another host does not exclude one here (pop3d(8), SHARED SPOOL)");
}

// As root: a session creates its dotlock as the user (who neither owns the
// spool nor is in its group), with the mail group where the daemon takes it.
void dotlocks_as_users(const config::Config& c, const std::string& spool, const struct stat& st,
                       std::optional<gid_t> mail_gid, CheckReport& r) {
    const bool with_mail = mail_gid && mail_group_grants_write(spool, *mail_gid);
    if (may_create(st, std::nullopt, with_mail ? std::vector<gid_t>{*mail_gid} : std::vector<gid_t>{})) {
        r.ok("sessions can create dotlocks in " + spool + (with_mail ? " with the mail group " + c.mail_group : ""));
        return;
    }
    std::string fix = "make it writable by the mail group (Debian: root:mail 2775)";
    if (st.st_mode & S_IWGRP && c.mail_group.empty())
        fix = "mail_group is empty: set it to " + group_name(st.st_gid);
    else if (st.st_mode & S_IWGRP && mail_gid && st.st_gid != *mail_gid)
        fix = "it is writable by group " + group_name(st.st_gid) + ", not by mail_group " + c.mail_group;
    r.error("sessions cannot create dotlocks in " + spool + " (" + describe(st) +
            "): every login to an existing mailbox fails (cannot create " + spool +
            "/USER.lock: Permission denied); " + fix);
}

// Not root: the one account we run as, with our own ids (no switch).
void own_mailbox(const config::Config& c, const Layout& l, CheckReport& r) {
    const std::optional<auth::Account> me = own_account();
    if (!me) {
        r.error("uid " + std::to_string(::geteuid()) +
                ", which pop3d runs as, has no passwd entry: it can serve no one");
        return;
    }
    const std::optional<std::string> path = expand_mailbox_path(c.mailbox, *me);
    if (!path) {
        r.error("the mailbox pattern " + c.mailbox + " gives no usable path for " + me->name + " (home '" +
                me->home + "')");
        return;
    }
    const std::string dir = text::parent_of(*path);
    const std::string label = l.one_spool ? "spool directory " : "mailbox directory of " + me->name + " ";
    const auto st = examine_dir(label, dir, me->name + "'s mail cannot be served", r);
    if (!st) return;
    if (!may_create(*st, ::geteuid(), own_groups()))
        r.error("pop3d, as " + me->name + ", cannot create dotlocks in " + dir + " (" + describe(*st) +
                "): its login fails once its mailbox exists");
    shared_filesystem(c, dir, r);
}

}  // namespace

// Without root pop3d can serve only the account it runs as (and PAM's
// pam_unix checks only that account's password).
void identity(const config::Config& c, CheckReport& r) {
    const uid_t euid = ::geteuid();
    if (euid == 0) {
        r.ok("runs as root: PAM can check any user's password, and pop3d can become each user");
        return;
    }
    const Layout l = layout_of(c.mailbox);
    struct stat st {};
    if (!l.fixed.empty() && ::stat(l.fixed.c_str(), &st) == 0 && st.st_uid != euid) {
        r.error("pop3d runs as " + who(euid) + ", not root: it cannot become the owners of the mailboxes under " +
                l.fixed + " (" + describe(st) + "), so no one but " + user_name(euid) +
                " could log in; run the daemon as root, and pop3d -t as root to check its setup");
        return;
    }
    r.warning("pop3d runs as " + who(euid) + ", not root: it serves " + user_name(euid) +
              " alone; any other user's login fails");
}

void spool(const config::Config& c, std::optional<gid_t> mail_gid, CheckReport& r) {
    const Layout l = layout_of(c.mailbox);
    if (::geteuid() != 0) {
        own_mailbox(c, l, r);
        return;
    }
    if (l.one_spool) {
        const auto st = examine_dir("spool directory ", l.fixed, "no mail can be served from it", r);
        if (!st) return;
        dotlocks_as_users(c, l.fixed, *st, mail_gid, r);
        shared_filesystem(c, l.fixed, r);
        return;
    }
    if (l.fixed.empty()) {
        r.ok("mailboxes are in each user's home directory (" + c.mailbox + "): those are not checked");
        return;
    }
    if (!examine_dir("directory ", l.fixed, "no mailbox of the pattern " + c.mailbox + " can exist", r)) return;
    r.ok("mailboxes are in a directory per user under " + l.fixed + " (" + c.mailbox + "): those are not checked");
    shared_filesystem(c, l.fixed, r);
}

}  // namespace pop3d::app::check
