// What a session tells whoever lists the live sessions (pop3d who): that
// it logged in, and that it entered UPDATE. The engine does not know where
// this goes (app/session_registry keeps it in the runtime directory).
#pragma once

#include <string_view>

namespace pop3d::session {

class SessionObserver {
public:
    virtual ~SessionObserver() = default;
    virtual void logged_in(std::string_view user) = 0;  // TRANSACTION begins
    virtual void updating() = 0;                         // QUIT in TRANSACTION: UPDATE begins
};

}  // namespace pop3d::session
