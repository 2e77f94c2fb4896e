// Accounts pop3d can never serve, whatever password PAM accepts: uid 0
// always, and, when pop3d does not run as root, every uid but its own (it
// cannot switch to another). The session answers them exactly like a wrong
// password, so neither the reply nor its timing tells a client that it
// guessed root's password.
#pragma once

#include "auth/account.hpp"

#include <sys/types.h>

#include <string>

namespace pop3d::auth {

// running_as: pop3d's effective uid (0: root, which may switch to any
// other). Returns why, for the log; empty when the account can be served.
std::string never_served(const Account& account, uid_t running_as);

}  // namespace pop3d::auth
