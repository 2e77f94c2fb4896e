// passwd and group lookups through the reentrant *_r calls, all with one
// buffer and retry rule, so a flaky backend (LDAP down, a busy sssd) is
// reported as an error and never as "no such entry".
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <span>
#include <string>

namespace pop3d::nss {

enum class Lookup { found, not_found, error };

// A passwd entry; auth::Account is this type.
struct User {
    std::string name;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    std::string home;
};

Lookup user_by_name(const std::string& name, User& out);
Lookup user_by_uid(uid_t uid, User& out);
// The gid of a group, by name.
Lookup group_by_name(const std::string& name, gid_t& out);
// The name of a group, by gid.
Lookup group_by_gid(gid_t gid, std::string& out);

// The rule they share. `call` runs one *_r function on the buffer, sets
// `found` and returns its value: ERANGE (or -1 with errno ERANGE, as
// nss_wrapper says it) doubles the buffer up to 4 MiB (a group may list many
// members); any other failure is tried three times in all.
Lookup with_retries(const std::function<int(std::span<char> buf, bool& found)>& call,
                    std::size_t first_size = 16384);

}  // namespace pop3d::nss
