// Authenticator over PAM: pam_authenticate + pam_acct_mgmt, then the passwd
// entry of the name PAM returns.
#pragma once

#include "auth/authenticator.hpp"
#include "common/nss.hpp"

#include <string>

namespace pop3d::auth {

class PamAuthenticator final : public Authenticator {
public:
    // confdir: empty for /etc/pam.d, else a private directory of service files.
    PamAuthenticator(std::string service, std::string confdir, std::size_t max_username_length);
    AuthResult authenticate(std::string_view user, std::string_view password, const ClientInfo& client) override;

private:
    AuthResult run_pam(std::string_view user, std::string_view password, const ClientInfo& client);
    std::string service_;
    std::string confdir_;
    std::size_t max_username_length_;
};

// The passwd entry of a name; a failing NSS backend is `error`, not `not_found`.
using LookupResult = nss::Lookup;
LookupResult lookup_account(const std::string& name, Account& out);

}  // namespace pop3d::auth
