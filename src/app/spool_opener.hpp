// The daemon's MaildropOpener: from an account to an open mbox snapshot.
// open() is the session's privilege lifetime read top to bottom: path,
// session lock and LOGIN-DELAY as root, become_user (for the whole process
// in inetd/fork mode, for this thread in the threaded daemon), and only
// then the mailbox.
#pragma once

#include "config/config.hpp"
#include "mailbox/index_cache.hpp"
#include "mailbox/session_lock.hpp"
#include "priv/credentials.hpp"
#include "session/maildrop_opener.hpp"

#include <memory>
#include <optional>
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
    bool login_too_soon(const mailbox::SessionLock* session_lock, mailbox::Result& result) const;
    std::optional<gid_t> mail_group_to_keep(const auth::Account& account, const std::string& path) const;
    // Root ends here; on failure `result` says why and nothing was opened.
    bool become_user(const auth::Account& account, std::optional<gid_t> keep, mailbox::Result& result);
    // What is opened as root for the maildrop, outside the spool.
    struct MaildropFiles {
        std::unique_ptr<mailbox::SessionLock> session_lock;
        std::unique_ptr<mailbox::IndexCache> index_cache;
    };
    void open_mailbox(const auth::Account& account, const std::string& path, MaildropFiles files,
                      session::OpenResult& out);

    const config::Config& config_;
    priv::Scope scope_;
    std::unique_ptr<priv::SavedGroupPrivilege> privilege_;  // outlives the maildrop
};

}  // namespace pop3d::app
