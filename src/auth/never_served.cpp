#include "auth/never_served.hpp"

namespace pop3d::auth {

std::string never_served(const Account& account, uid_t running_as) {
    if (account.uid == 0) return "uid 0 is never served";
    if (running_as != 0 && account.uid != running_as)
        return "uid " + std::to_string(account.uid) + " is not pop3d's own uid " + std::to_string(running_as) +
               " and pop3d does not run as root";
    return {};
}

}  // namespace pop3d::auth
