// A user who has logged in: the name PAM settled on and its passwd entry
// (name, uid, gid, home), as nss::user_by_name reads it.
#pragma once

#include "common/nss.hpp"

namespace pop3d::auth {

using Account = nss::User;

}  // namespace pop3d::auth
