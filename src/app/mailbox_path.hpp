// Turning the configured path pattern into one user's mailbox path.
#pragma once

#include "auth/account.hpp"

#include <optional>
#include <string>

namespace pop3d::app {

// %u -> account name, %h -> home directory, %% -> %. nullopt when the result
// is not an absolute path, has "." or ".." components or an empty home.
// The name has passed auth::valid_username, so it holds no '/'.
std::optional<std::string> expand_mailbox_path(const std::string& pattern, const auth::Account& account);

}  // namespace pop3d::app
