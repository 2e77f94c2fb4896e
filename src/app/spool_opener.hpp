// The daemon's MaildropOpener: from an account to an open mbox snapshot.
// Order matters: path, session lock (as root), give up root (for the whole
// process in inetd/fork mode, for this thread in the threaded daemon), and
// only then open the mailbox.
#pragma once

#include "config/config.hpp"
#include "priv/credentials.hpp"
#include "session/maildrop_opener.hpp"

#include <memory>
#include <string>

namespace pop3d::app {

// The mail group is taken (around dotlock and expunge file operations) only
// where it is what grants write access: a directory writable by that group
// and not by everyone (Debian: /var/mail root:mail 2775). pop3d -t asks too.
bool mail_group_grants_write(const std::string& dir, gid_t gid);

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
