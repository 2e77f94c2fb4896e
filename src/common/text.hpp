// Small string helpers shared by the parsers (config, commands, mail headers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pop3d::text {

bool iequals(std::string_view a, std::string_view b) noexcept;
std::string_view trim(std::string_view s) noexcept;
// Spaces and tabs only (a header or a command line keeps its other bytes).
std::string_view trim_blanks(std::string_view s) noexcept;
std::string_view trim_trailing_blanks(std::string_view s) noexcept;

// Strict unsigned decimal: digits only, no sign, no spaces, no overflow.
std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept;

// Copy of s that is safe to put in a log line: bytes outside 0x20..0x7E become
// \xHH, and the result is cut at max_len bytes of input.
std::string escape_for_log(std::string_view s, std::size_t max_len = 128);

// escape_for_log for a field of a log line that a client chose (a user
// name, an authorization identity): a space becomes \x20 as well, so the
// text stays one token and cannot pose as another field ("x rip=10.9.9.9").
std::string escape_log_field(std::string_view s, std::size_t max_len = 128);

// errno as text ("No such file or directory"), thread-safe.
std::string errno_text(int err);

// A count with its noun: "1 message", "2 messages", "0 octets".
std::string count(std::uint64_t n, std::string_view noun);

// The directory part of a path: "/run" for "/run/pop3d.pid", "/" for "/x",
// "." for "x".
std::string parent_of(const std::string& path);

}  // namespace pop3d::text
