// Parsing of one client command line (RFC 1939 §3): a keyword, then
// arguments separated by single spaces.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace pop3d::session {

struct CommandLine {
    std::string_view keyword;  // as sent; compare case-insensitively
    std::string_view rest;     // everything after the first space, untouched (PASS)
};

// nullopt for an empty line or one holding NUL or other control bytes
// (other than TAB) that no command allows.
std::optional<CommandLine> split_command(std::string_view line);

// Arguments of `rest` split on single spaces, trailing spaces and tabs
// ignored. nullopt when there are more than max_args or an empty field
// (two spaces in a row).
std::optional<std::vector<std::string_view>> split_args(std::string_view rest, std::size_t max_args);

// Decimal number without sign; nullopt when not all digits.
std::optional<std::uint64_t> parse_number(std::string_view s);

}  // namespace pop3d::session
