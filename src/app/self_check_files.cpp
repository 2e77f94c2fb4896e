// pop3d -t: the files pop3d itself makes (runtime state, session locks, the
// pid file, the log) and where its log lines go. Each check asks what the
// daemon would do with the same path, as the same user, without creating
// anything.
#include "app/failure_table.hpp"
#include "app/login_gate.hpp"
#include "app/self_check_parts.hpp"
#include "app/session_registry.hpp"
#include "common/filesystem_kind.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "common/unique_fd.hpp"
#include "mailbox/private_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace pop3d::app::check {

std::string user_name(uid_t uid) {
    nss::User user;
    if (nss::user_by_uid(uid, user) == nss::Lookup::found) return user.name;
    return "uid " + std::to_string(uid);
}

std::string group_name(gid_t gid) {
    std::string name;
    if (nss::group_by_gid(gid, name) == nss::Lookup::found) return name;
    return "gid " + std::to_string(gid);
}

std::string describe(const struct stat& st) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return user_name(st.st_uid) + ":" + group_name(st.st_gid) + " " + mode;
}

std::string cannot_create_in(const std::string& dir) {
    return ::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0 ? "" : text::errno_text(errno);
}

bool may_create(const struct stat& dir, std::optional<uid_t> uid, const std::vector<gid_t>& gids) {
    unsigned bits = dir.st_mode & 7;
    if (uid && *uid == dir.st_uid) bits = (dir.st_mode >> 6) & 7;
    else if (std::find(gids.begin(), gids.end(), dir.st_gid) != gids.end()) bits = (dir.st_mode >> 3) & 7;
    return (bits & 3) == 3;  // write and search
}

std::vector<gid_t> own_groups() {
    std::vector<gid_t> gids(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)) + 1);
    const int n = ::getgroups(static_cast<int>(gids.size()) - 1, gids.data() + 1);
    gids.resize(static_cast<std::size_t>(std::max(n, 0)) + 1);
    gids[0] = ::getegid();
    return gids;
}

namespace {

// pop3d makes a missing runtime directory itself (mkdir 0700, the last
// component only) and creates its files in it as its euid. True when the
// directory exists and can be used, so that the files in it are worth a look.
bool usable_dir(const std::string& name, const std::string& dir, const std::string& without, bool risks,
                CheckReport& r) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        const std::string parent = text::parent_of(dir);
        if (errno != ENOENT)
            r.error(name + ": " + text::errno_text(errno) + ": " + without);
        else if (struct stat pst {}; ::stat(parent.c_str(), &pst) != 0 || !S_ISDIR(pst.st_mode))
            r.error(name + " does not exist, nor does " + parent + " (pop3d makes the last component only): " +
                    without);
        else if (const std::string why = cannot_create_in(parent); !why.empty())
            r.error(name + " does not exist and cannot be made in " + parent + " (" + describe(pst) + ": " + why +
                    "): " + without);
        else
            r.ok(name + " does not exist yet: pop3d makes it (mode 0700) when it needs it");
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        r.error(name + " is not a directory: " + without);
        return false;
    }
    if (const std::string why = cannot_create_in(dir); !why.empty()) {
        r.error(name + ": pop3d cannot create files in it (" + describe(st) + ": " + why + "): " + without);
        return false;
    }
    r.ok(name + " is usable (" + describe(st) + ")");
    if (!risks) return true;
    if (st.st_uid != ::geteuid())
        r.warning(name + " belongs to " + user_name(st.st_uid) + ", not to " + user_name(::geteuid()) +
                  ", which pop3d runs as: that user can replace pop3d's files in it");
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        r.warning(name + " is writable by others (" + describe(st) +
                  "): a local user can put files there that pop3d then refuses, and it goes on without them; "
                  "make it 0700");
    return true;
}

// The files the daemon would refuse (and fall back to memory): wrong owner,
// mode, size or contents. Checked by the daemon's own rules.
void runtime_files(const std::string& dir, CheckReport& r) {
    if (const std::string f = FailureTable::file_fault(dir + "/auth-failures"); !f.empty())
        r.error(f + ": failed logins would be counted per process only");
    if (const std::string f = LoginGate::file_fault(dir + "/logins"); !f.empty())
        r.error(f + ": max_concurrent_logins would apply per process only");
    if (const std::string f = SessionRegistry::file_fault(dir + "/sessions"); !f.empty())
        r.error(f + ": pop3d who and kick would not see the sessions");
}

// The per-maildrop files (NAME.suffix) the daemon would not use: not its
// private files. `what` names one, `without` says what its maildrop loses.
void maildrop_files(const std::string& dir, std::string_view suffix, const std::string& what,
                    const std::string& without, CheckReport& r) {
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) return;
    std::size_t bad = 0;
    std::string first;
    while (const dirent* e = ::readdir(d.get())) {
        const std::string_view name = e->d_name;
        if (!name.ends_with(suffix)) continue;
        if (std::string f = mailbox::private_file_fault_at(dir + "/" + std::string(name)); !f.empty()) {
            if (bad++ == 0) first = std::move(f);
        }
    }
    if (bad > 0)
        r.warning(text::count(bad, what) + " in " + dir + " cannot be used (" + first + "): " +
                  (bad == 1 ? "its maildrop gets" : "their maildrops get") + " " + without + "; remove them");
}

// A cache: without it nothing is at risk, every session just indexes anew.
void index_cache_dir(const config::Config& c, CheckReport& r) {
    const std::string& dir = c.index_cache_dir;
    if (dir.empty()) {
        r.ok("index_cache_dir is empty: every session indexes its mailbox and computes its UIDs anew");
        return;
    }
    if (usable_dir("index_cache_dir " + dir, dir,
                   "every session would index its mailbox and compute its UIDs anew (slower; no mail at risk)",
                   dir != c.runtime_dir && dir != c.session_lock_dir, r))
        maildrop_files(dir, ".index", "saved index file", "no saved index", r);
}

}  // namespace

void state_dirs(const config::Config& c, CheckReport& r) {
    index_cache_dir(c, r);
    const std::string per_process =
        "failed logins would be counted, and max_concurrent_logins applied, per process only "
        "(with pop3d -i: per connection)";
    if (c.runtime_dir.empty()) {
        r.warning("runtime_dir is empty: " + per_process);
    } else if (usable_dir("runtime_dir " + c.runtime_dir, c.runtime_dir, per_process, true, r)) {
        runtime_files(c.runtime_dir, r);
        if (on_shared_filesystem(c.runtime_dir))
            r.warning("runtime_dir " + c.runtime_dir +
                      " is on a shared filesystem: its failed-login table is shared memory; keep it local");
    }
    if (c.session_lock_dir.empty()) {
        r.ok("session_lock_dir is empty: two sessions may open one maildrop (the snapshot checks keep mail safe)");
        return;
    }
    const std::string unlocked = std::string("a second session of a maildrop would not be refused with [IN-USE]") +
                                 (c.login_delay > 0 ? ", and login_delay would not apply" : "");
    if (usable_dir("session_lock_dir " + c.session_lock_dir, c.session_lock_dir, unlocked,
                   c.session_lock_dir != c.runtime_dir, r))
        maildrop_files(c.session_lock_dir, ".session", "session lock file", "no one-session exclusion", r);
}

// The standalone daemon writes it when it detaches: open(O_CREAT | O_TRUNC
// | O_NOFOLLOW) as root; a failure is logged and the daemon goes on.
void pid_file(const config::Config& c, CheckReport& r) {
    if (c.pid_file.empty()) {
        r.ok("pid_file is empty: the daemon writes no pid file");
        return;
    }
    const std::string what = "pid_file " + c.pid_file;
    const std::string without = ": the standalone daemon could not write it, and whatever looks for it would not "
                                "find the daemon";
    const std::string dir = text::parent_of(c.pid_file);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        r.error(what + ": its directory " + dir + " does not exist" + without);
        return;
    }
    std::string why;
    if (::lstat(c.pid_file.c_str(), &st) != 0) {
        if (const std::string e = cannot_create_in(dir); !e.empty()) why = "cannot create it in " + dir + ": " + e;
    }
    else if (S_ISLNK(st.st_mode)) why = "it is a symbolic link, which pop3d does not follow";
    else if (!S_ISREG(st.st_mode)) why = "it is not a regular file";
    else if (::faccessat(AT_FDCWD, c.pid_file.c_str(), W_OK, AT_EACCESS) != 0) why = text::errno_text(errno);
    if (why.empty()) r.ok(what + " can be written (by the standalone daemon when it detaches)");
    else r.error(what + ": " + why + without);
}

namespace {

// log::use_file: open(O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW).
std::string cannot_append(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) return "it is a symbolic link, which pop3d does not follow";
        if (S_ISDIR(st.st_mode)) return "it is a directory";
        return ::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) == 0 ? "" : text::errno_text(errno);
    }
    const std::string dir = text::parent_of(path);
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "its directory " + dir + " does not exist";
    const std::string why = cannot_create_in(dir);
    return why.empty() ? "" : "cannot create it in " + dir + ": " + why;
}

// What glibc's syslog function does: a datagram socket to /dev/log, else a stream
// one. "" when one connects.
std::string syslog_unreachable() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "/dev/log");
    int err = 0;
    for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
        const UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
        if (fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return {};
        if (err == 0 || err == EPROTOTYPE) err = errno;
    }
    return text::errno_text(err);
}

}  // namespace

void logging(const config::Config& c, CheckReport& r) {
    if (!c.log_file.empty()) {
        const std::string why = cannot_append(c.log_file);
        if (why.empty()) {
            r.ok("log lines go to " + c.log_file);
            return;
        }
        r.warning("log_file " + c.log_file + " cannot be opened (" + why + "): pop3d logs to syslog instead");
    }
    if (const std::string why = syslog_unreachable(); why.empty())
        r.ok("log lines go to syslog through /dev/log (facility " + c.log_facility + ")");
    else
        r.warning("no syslog daemon listens on /dev/log (" + why + ")" +
                  (c.log_file.empty() ? " and log_file is empty" : "") +
                  ": every log line would be lost (pop3d -f also copies them to stderr); start one "
                  "(rsyslog, systemd-journald) or set log_file");
}

}  // namespace pop3d::app::check
