// What the session asks before and after a login: how many logins failed
// recently from the client's address (the delay rises with it, and past a
// budget the address is refused), across every session and process; and
// a turn to check credentials, of which only so many run at once.
#pragma once

#include <chrono>
#include <string_view>

namespace pop3d::session {

class LoginThrottle {
public:
    virtual ~LoginThrottle() = default;
    // Failed logins from this address in the current window (0 for an empty address).
    virtual unsigned failures(std::string_view address) = 0;
    virtual void record_failure(std::string_view address) = 0;
    // Waits at most max_wait for a turn to ask the authenticator; each
    // true is followed by one end_login(). False: the server is overloaded.
    virtual bool begin_login(std::chrono::milliseconds /*max_wait*/) { return true; }
    virtual void end_login() {}
};

}  // namespace pop3d::session
