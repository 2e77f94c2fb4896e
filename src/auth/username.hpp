// The one place that decides which user names may reach PAM and a path.
#pragma once

#include <cstddef>
#include <string_view>

namespace pop3d::auth {

// 1..max_len bytes of printable ASCII (0x21..0x7E) except '/', and neither
// "." nor "..". No NUL, space, control or 8-bit bytes.
bool valid_username(std::string_view name, std::size_t max_len) noexcept;

}  // namespace pop3d::auth
