#include "app/mailbox_path.hpp"

namespace pop3d::app {

std::optional<std::string> expand_mailbox_path(const std::string& pattern, const auth::Account& account) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%' || i + 1 == pattern.size()) {
            out.push_back(pattern[i]);
            continue;
        }
        const char c = pattern[++i];
        if (c == 'u') {
            out += account.name;
        } else if (c == 'h') {
            if (account.home.empty() || account.home.front() != '/') return std::nullopt;
            out += account.home;
        } else if (c == '%') {
            out.push_back('%');
        } else {
            return std::nullopt;
        }
    }
    if (out.empty() || out.front() != '/') return std::nullopt;
    // Reject "." and ".." anywhere, whatever the home directory held.
    std::size_t start = 1;
    while (start <= out.size()) {
        std::size_t end = out.find('/', start);
        if (end == std::string::npos) end = out.size();
        const std::string_view part(out.data() + start, end - start);
        if (part == "." || part == "..") return std::nullopt;
        start = end + 1;
    }
    if (out.back() == '/') return std::nullopt;
    return out;
}

}  // namespace pop3d::app
