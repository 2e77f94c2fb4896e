// What the session asks before and after a failed login: how many logins
// failed recently from the client's address (the delay rises with it, and
// past a budget the address is refused), across every session and process.
#pragma once

#include <string_view>

namespace pop3d::session {

class LoginThrottle {
public:
    virtual ~LoginThrottle() = default;
    // Failed logins from this address in the current window (0 for an empty address).
    virtual unsigned failures(std::string_view address) = 0;
    virtual void record_failure(std::string_view address) = 0;
};

}  // namespace pop3d::session
