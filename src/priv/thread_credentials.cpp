#include "priv/thread_credentials.hpp"

#include "common/text.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace pop3d::priv {

namespace {

// All raw syscalls: glibc's wrappers for the set*id family (and setgroups)
// would change every thread of the process.
long raw_setfsuid(uid_t u) { return ::syscall(SYS_setfsuid, u); }
long raw_setfsgid(gid_t g) { return ::syscall(SYS_setfsgid, g); }

}  // namespace

std::vector<gid_t> account_groups(const auth::Account& a) { return account_groups(a, ::getgrouplist); }

std::vector<gid_t> account_groups(const auth::Account& a, GroupListFn getgrouplist) {
    constexpr int kMax = 65536;  // NGROUPS_MAX of the kernel: setgroups takes no more
    int size = 32;
    std::vector<gid_t> groups;
    for (;;) {
        // Slots getgrouplist leaves unfilled hold the primary group, never
        // 0: a padded buffer must not make a user a member of root's group.
        groups.assign(static_cast<std::size_t>(size), a.gid);
        int n = size;
        const bool fits = getgrouplist(a.name.c_str(), a.gid, groups.data(), &n) >= 0;
        // Still too small at the kernel's limit: keep what was filled (glibc
        // fills the buffer and says how many there are), as initgroups() does.
        if (fits || size >= kMax) {
            groups.resize(static_cast<std::size_t>(std::clamp(n, 0, size)));
            break;
        }
        size = std::min(kMax, std::max(n, size * 2));  // grows even when n says nothing larger
    }
    if (groups.empty()) groups.push_back(a.gid);
    return groups;
}

std::vector<gid_t> thread_groups() {
    const long n = ::syscall(SYS_getgroups, 0, nullptr);
    std::vector<gid_t> groups(static_cast<std::size_t>(std::max(n, 0L)));
    const long got = ::syscall(SYS_getgroups, groups.size(), groups.data());
    groups.resize(static_cast<std::size_t>(std::max(got, 0L)));
    return groups;
}

bool set_thread_caps(const ThreadCaps& c) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
        const int shift = 32 * i;
        data[i].effective = static_cast<std::uint32_t>(c.effective >> shift);
        data[i].permitted = static_cast<std::uint32_t>(c.permitted >> shift);
        data[i].inheritable = static_cast<std::uint32_t>(c.inheritable >> shift);
    }
    return ::syscall(SYS_capset, &header, data) == 0;
}

ThreadIds thread_ids() {
    ThreadIds ids{};
    ::syscall(SYS_getresuid, &ids.ruid, &ids.euid, &ids.suid);
    ::syscall(SYS_getresgid, &ids.rgid, &ids.egid, &ids.sgid);
    // setfs*id(-1) changes nothing and returns the current value.
    ids.fsuid = static_cast<uid_t>(raw_setfsuid(static_cast<uid_t>(-1)));
    ids.fsgid = static_cast<gid_t>(raw_setfsgid(static_cast<gid_t>(-1)));
    return ids;
}

std::optional<ThreadCaps> thread_caps() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &header, data) != 0) return std::nullopt;
    ThreadCaps c{};
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
        const int shift = 32 * i;
        c.effective |= std::uint64_t{data[i].effective} << shift;
        c.permitted |= std::uint64_t{data[i].permitted} << shift;
        c.inheritable |= std::uint64_t{data[i].inheritable} << shift;
    }
    return c;
}

DropResult drop_thread_to_account(const auth::Account& a, std::optional<gid_t> spool_gid) {
    DropResult r;
    const std::optional<DropStart> started = start_drop(a, spool_gid, Scope::thread, r);  // raw syscalls: this thread
    if (!started) return r;
    // fsuid 0 -> user: the kernel drops the file capabilities (DAC_OVERRIDE,
    // FOWNER, ...) from this thread's effective set. setfsuid returns the
    // old value, never an error: check_dropped reads it back.
    raw_setfsuid(a.uid);
    // Nothing after login needs a capability (setfsgid to the saved mail
    // group needs none), so all of them go, permitted too: then none can be
    // turned back on, and no_new_privs keeps an exec from granting any.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        r.error = "prctl(PR_SET_NO_NEW_PRIVS): " + text::errno_text(errno);
        return r;
    }
    if (!set_thread_caps({0, 0, 0})) {
        r.error = "capset: " + text::errno_text(errno);
        return r;
    }
    r.error = verify_dropped(a, started->keep, started->groups, Scope::thread);
    r.ok = r.dropped = r.error.empty();
    return r;
}

bool set_thread_fsgid(gid_t gid) {
    raw_setfsgid(gid);  // returns the old value, whether or not it changed
    return thread_ids().fsgid == gid;
}

}  // namespace pop3d::priv
