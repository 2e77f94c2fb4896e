#include "priv/credentials.hpp"

#include "auth/never_served.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "priv/thread_credentials.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace pop3d::priv {

std::optional<gid_t> lookup_group(const std::string& name) {
    gid_t gid = 0;
    if (name.empty() || nss::group_by_name(name, gid) != nss::Lookup::found) return std::nullopt;
    return gid;
}

bool drop_needed(const auth::Account& a, DropResult& r) {
    r = DropResult{};
    // The session refuses these at login already; this is the second line.
    if (const std::string why = auth::never_served(a, ::geteuid()); !why.empty()) {
        r.error = "refusing to serve " + a.name + ": " + why;
        return false;
    }
    if (::geteuid() != 0) {  // our own uid: nothing to switch
        r.ok = true;
        return false;
    }
    return true;
}

std::optional<DropStart> start_drop(const auth::Account& a, std::optional<gid_t> spool_gid, Scope scope,
                                    DropResult& r) {
    if (!drop_needed(a, r)) return std::nullopt;
    // Both drops set the same groups (what initgroups() would set).
    DropStart s{spool_gid.value_or(a.gid), account_groups(a)};
    // glibc's wrappers change every thread of the process, the raw calls only this one.
    const bool process = scope == Scope::process;
    const long set = process ? ::setgroups(s.groups.size(), s.groups.data())
                             : ::syscall(SYS_setgroups, s.groups.size(), s.groups.data());
    if (set != 0) {
        r.error = (process ? "setgroups(" + a.name + "): " : std::string("setgroups: ")) + text::errno_text(errno);
        return std::nullopt;
    }
    // (fsgid follows egid.)
    const long gid = process ? ::setresgid(a.gid, a.gid, s.keep) : ::syscall(SYS_setresgid, a.gid, a.gid, s.keep);
    if (gid != 0) {
        r.error = "setresgid: " + text::errno_text(errno);
        return std::nullopt;
    }
    return s;
}

DropResult drop_to_account(const auth::Account& a, std::optional<gid_t> spool_gid) {
    DropResult r;
    const std::optional<DropStart> started = start_drop(a, spool_gid, Scope::process, r);
    if (!started) return r;
    if (::setresuid(a.uid, a.uid, a.uid) != 0) {
        r.error = "setresuid: " + text::errno_text(errno);
        return r;
    }
    r.error = verify_dropped(a, started->keep, started->groups, Scope::process);
    if (!r.error.empty()) return r;
    r.ok = true;
    r.dropped = true;
    return r;
}

DropResult become_user(const auth::Account& a, Scope scope, std::optional<gid_t> spool_gid) {
    return scope == Scope::thread ? drop_thread_to_account(a, spool_gid) : drop_to_account(a, spool_gid);
}

namespace {

// The ids as the kernel has them: for a process drop through glibc (all
// threads alike; libuid_wrapper, which tests use, emulates these but not
// setfsuid: the fs ids follow the effective ones there), for a thread drop
// the calling thread's own.
ThreadIds observed_ids(Scope scope) {
    if (scope == Scope::thread) return thread_ids();
    ThreadIds t{};
    if (::getresuid(&t.ruid, &t.euid, &t.suid) != 0 || ::getresgid(&t.rgid, &t.egid, &t.sgid) != 0) t.ruid = 0;
    t.fsuid = t.euid;
    t.fsgid = t.egid;
    return t;
}

std::vector<gid_t> observed_groups(Scope scope) {
    if (scope == Scope::thread) return thread_groups();
    std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
    groups.resize(static_cast<std::size_t>(std::max(::getgroups(static_cast<int>(groups.size()), groups.data()), 0)));
    return groups;
}

// What the ids must be after the drop. A session thread keeps uid 0 so
// that no user can signal, limit or trace it (thread_credentials.hpp);
// its files go by its fsuid alone.
bool ids_as_expected(const auth::Account& a, gid_t keep, Scope scope) {
    const ThreadIds t = observed_ids(scope);
    const uid_t u = scope == Scope::thread ? 0 : a.uid;
    return t.ruid == u && t.euid == u && t.suid == u && t.fsuid == a.uid && t.rgid == a.gid && t.egid == a.gid &&
           t.sgid == keep && t.fsgid == a.gid;
}

bool groups_as_expected(std::vector<gid_t> want, Scope scope) {
    std::vector<gid_t> have = observed_groups(scope);
    std::sort(have.begin(), have.end());
    std::sort(want.begin(), want.end());
    return have == want;
}

// Trust nothing: try to take root back.
std::string root_regained(Scope scope) {
    if (scope == Scope::process)
        return ::setuid(0) == 0 || ::seteuid(0) == 0 ? "root could be regained after dropping privileges" : "";
    const std::optional<ThreadCaps> caps = thread_caps();
    if (!caps || caps->inheritable != 0) return "thread capabilities are not all gone";
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return "no_new_privs is not set";
    if (set_thread_caps({1ULL << CAP_DAC_OVERRIDE, 1ULL << CAP_DAC_OVERRIDE, 0}))
        return "root's capabilities could be regained after dropping them";
    return {};
}

}  // namespace

std::string verify_dropped(const auth::Account& a, gid_t keep, const std::vector<gid_t>& groups, Scope scope) {
    const std::string who = scope == Scope::thread ? "thread " : "";
    if (!ids_as_expected(a, keep, scope)) return who + "credentials did not change as requested";
    if (!groups_as_expected(groups, scope)) return who + "groups did not change as requested";
    const std::optional<ThreadCaps> caps = thread_caps();
    if (!caps || caps->effective != 0 || caps->permitted != 0) return who + "capabilities are not all gone";
    return root_regained(scope);
}

bool SavedGroupPrivilege::set_group(gid_t gid) {
    // A session thread's file access goes by its fsgid alone (its uids are
    // root's, its egid is the user's group), so only that moves.
    if (scope_ == Scope::thread) return set_thread_fsgid(gid);
    const auto keep = static_cast<gid_t>(-1);
    return ::setresgid(keep, gid, keep) == 0;
}

bool SavedGroupPrivilege::raise() { return set_group(spool_gid_); }

void SavedGroupPrivilege::lower() {
    // Going back to our own group cannot fail after raise() succeeded; if it
    // did, stop rather than go on with the mail group.
    if (!set_group(user_gid_)) std::abort();
}

}  // namespace pop3d::priv
