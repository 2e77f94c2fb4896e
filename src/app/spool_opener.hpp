// The daemon's MaildropOpener: from an account to an open mbox snapshot.
// In the inetd and forked models it drops root for good first.
#pragma once

#include "config/config.hpp"
#include "priv/credentials.hpp"
#include "session/maildrop_opener.hpp"

#include <memory>

namespace pop3d::app {

class DroppingSpoolOpener final : public session::MaildropOpener {
public:
    explicit DroppingSpoolOpener(const config::Config& config) : config_(config) {}
    session::OpenResult open(const auth::Account& account) override;

private:
    const config::Config& config_;
    std::unique_ptr<priv::SavedGroupPrivilege> privilege_;  // outlives the maildrop
};

}  // namespace pop3d::app
