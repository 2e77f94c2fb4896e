#include "priv/credentials.hpp"

#include "auth/never_served.hpp"
#include "common/text.hpp"
#include "priv/thread_credentials.hpp"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace pop3d::priv {

std::optional<gid_t> lookup_group(const std::string& name) {
    if (name.empty()) return std::nullopt;
    std::vector<char> buf(16384);
    for (int attempt = 0;;) {
        group gr{};
        group* result = nullptr;
        const int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result);
        if (rc == ERANGE && buf.size() < (1u << 22)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc != 0 && ++attempt < 3) continue;  // a passing NSS failure
        if (rc != 0 || result == nullptr) return std::nullopt;
        return gr.gr_gid;
    }
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

DropResult drop_to_account(const auth::Account& a, std::optional<gid_t> spool_gid) {
    DropResult r;
    if (!drop_needed(a, r)) return r;
    const gid_t keep = spool_gid.value_or(a.gid);
    if (::initgroups(a.name.c_str(), a.gid) != 0) {
        r.error = "initgroups(" + a.name + "): " + text::errno_text(errno);
        return r;
    }
    if (::setresgid(a.gid, a.gid, keep) != 0) {
        r.error = "setresgid: " + text::errno_text(errno);
        return r;
    }
    if (::setresuid(a.uid, a.uid, a.uid) != 0) {
        r.error = "setresuid: " + text::errno_text(errno);
        return r;
    }
    // Trust nothing: read back every id and make sure root is gone for good.
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (::getresuid(&ru, &eu, &su) != 0 || ru != a.uid || eu != a.uid || su != a.uid ||
        ::getresgid(&rg, &eg, &sg) != 0 || rg != a.gid || eg != a.gid || sg != keep) {
        r.error = "credentials did not change as requested";
        return r;
    }
    if (::setuid(0) == 0 || ::seteuid(0) == 0) {
        r.error = "root could be regained after dropping privileges";
        return r;
    }
    r.ok = true;
    r.dropped = true;
    return r;
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
