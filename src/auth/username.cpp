#include "auth/username.hpp"

namespace pop3d::auth {

bool valid_username(std::string_view name, std::size_t max_len) noexcept {
    if (name.empty() || name.size() > max_len) return false;
    if (name == "." || name == "..") return false;
    if (name.front() == '-') return false;  // never looks like an option to a helper
    for (unsigned char c : name)
        if (c < 0x21 || c > 0x7e || c == '/') return false;
    return true;
}

}  // namespace pop3d::auth
