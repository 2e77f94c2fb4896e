// The daemon's MaildropOpener: from an account to an open mbox snapshot.
// Order matters: path, session lock (as root), give up root (for the whole
// process in inetd/fork mode, for this thread in the threaded daemon), and
// only then open the mailbox.
#pragma once

#include "config/config.hpp"
#include "priv/credentials.hpp"
#include "session/maildrop_opener.hpp"

#include <memory>

namespace pop3d::app {

class SpoolOpener final : public session::MaildropOpener {
public:
    SpoolOpener(const config::Config& config, priv::Scope scope) : config_(config), scope_(scope) {}
    session::OpenResult open(const auth::Account& account) override;

private:
    const config::Config& config_;
    priv::Scope scope_;
    std::unique_ptr<priv::SavedGroupPrivilege> privilege_;  // outlives the maildrop
};

}  // namespace pop3d::app
