// What the client is told when a step fails, and whether the failure
// counts against the client's address (the failed-login budget). The one
// mapping from an authentication or maildrop status to a reply of
// session/responses.hpp: the throttle reads the flag, never the text.
#pragma once

#include "auth/authenticator.hpp"
#include "mailbox/maildrop.hpp"

#include <string_view>

namespace pop3d::session {

struct Refusal {
    std::string_view reply;
    bool counts_against_address = false;
};

// The steps whose failures a mailbox::Status describes.
enum class MaildropStep {
    open,    // the login, after good credentials
    update,  // QUIT in TRANSACTION: the expunge
    dele,    // DELE: may the maildrop be changed at all
};

// A failed credential check: only failed credentials count; a PAM outage
// must not leave every client blocked once it is over.
Refusal refusal(auth::AuthStatus status);
// A maildrop step that did not succeed (status != ok). Never counts: the
// credentials were good.
Refusal refusal(MaildropStep step, mailbox::Status status);

}  // namespace pop3d::session
