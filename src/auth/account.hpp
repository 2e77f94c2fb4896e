// A user who has logged in: the name PAM settled on and its passwd entry.
#pragma once

#include <sys/types.h>

#include <string>

namespace pop3d::auth {

struct Account {
    std::string name;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    std::string home;
};

}  // namespace pop3d::auth
