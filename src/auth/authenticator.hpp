// What the session needs from authentication; PAM implements it, tests fake it.
#pragma once

#include "auth/account.hpp"

#include <string>
#include <string_view>

namespace pop3d::auth {

enum class AuthStatus {
    ok,           // credentials good, account usable
    failed,       // bad password, unknown user, expired or locked account
    unavailable,  // the authentication service itself failed (try later)
};

struct AuthResult {
    AuthStatus status = AuthStatus::failed;
    Account account;      // valid when status == ok
    std::string detail;   // for the log only, never sent to the client
};

struct ClientInfo {
    std::string address;  // numeric peer address, empty when unknown
};

class Authenticator {
public:
    virtual ~Authenticator() = default;
    // `user` has already passed valid_username().
    virtual AuthResult authenticate(std::string_view user, std::string_view password, const ClientInfo& client) = 0;
};

}  // namespace pop3d::auth
