#include "priv/thread_credentials.hpp"

#include "common/text.hpp"

#include <grp.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace pop3d::priv {

namespace {

long raw_setresuid(uid_t r, uid_t e, uid_t s) { return ::syscall(SYS_setresuid, r, e, s); }

std::vector<gid_t> user_groups(const auth::Account& a) {
    int n = 32;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    while (::getgrouplist(a.name.c_str(), a.gid, groups.data(), &n) < 0 && n <= 65536)
        groups.resize(static_cast<std::size_t>(n));
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    if (groups.empty()) groups.push_back(a.gid);
    return groups;
}

}  // namespace

ThreadIds thread_ids() {
    ThreadIds ids{};
    ::syscall(SYS_getresuid, &ids.ruid, &ids.euid, &ids.suid);
    ::syscall(SYS_getresgid, &ids.rgid, &ids.egid, &ids.sgid);
    // setfs*id(-1) changes nothing and returns the current value.
    ids.fsuid = static_cast<uid_t>(::syscall(SYS_setfsuid, static_cast<uid_t>(-1)));
    ids.fsgid = static_cast<gid_t>(::syscall(SYS_setfsgid, static_cast<gid_t>(-1)));
    return ids;
}

DropResult drop_thread_to_account(const auth::Account& a, std::optional<gid_t> spool_gid) {
    DropResult r;
    if (!drop_needed(a, r)) return r;
    const gid_t keep = spool_gid.value_or(a.gid);
    const std::vector<gid_t> groups = user_groups(a);
    if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0) {
        r.error = "setgroups: " + text::errno_text(errno);
        return r;
    }
    if (::syscall(SYS_setresgid, a.gid, a.gid, keep) != 0) {
        r.error = "setresgid: " + text::errno_text(errno);
        return r;
    }
    if (raw_setresuid(a.uid, a.uid, a.uid) != 0) {
        r.error = "setresuid: " + text::errno_text(errno);
        return r;
    }
    const ThreadIds ids = thread_ids();
    if (ids.ruid != a.uid || ids.euid != a.uid || ids.suid != a.uid || ids.fsuid != a.uid || ids.rgid != a.gid ||
        ids.egid != a.gid || ids.sgid != keep || ids.fsgid != a.gid) {
        r.error = "thread credentials did not change as requested";
        return r;
    }
    ::syscall(SYS_setfsuid, 0);  // must have no effect now
    if (raw_setresuid(0, 0, 0) == 0 || thread_ids().fsuid != a.uid) {
        r.error = "root could be regained after dropping privileges";
        return r;
    }
    r.ok = true;
    r.dropped = true;
    return r;
}

}  // namespace pop3d::priv
