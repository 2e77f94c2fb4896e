// What the session calls after a good login to get the user's maildrop. The
// daemon's implementation switches credentials and opens the mbox file;
// tests hand out in-memory maildrops.
#pragma once

#include "auth/account.hpp"
#include "mailbox/maildrop.hpp"

#include <memory>

namespace pop3d::session {

struct OpenResult {
    mailbox::Result result;
    std::unique_ptr<mailbox::Maildrop> maildrop;  // set when result.ok()
};

class MaildropOpener {
public:
    virtual ~MaildropOpener() = default;
    virtual OpenResult open(const auth::Account& account) = 0;
};

}  // namespace pop3d::session
