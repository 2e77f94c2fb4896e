#include "session/command.hpp"

#include "common/text.hpp"

namespace pop3d::session {

std::optional<CommandLine> split_command(std::string_view line) {
    for (unsigned char c : line)
        if ((c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
    if (line.empty()) return std::nullopt;
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return CommandLine{line, {}};
    return CommandLine{line.substr(0, sp), line.substr(sp + 1)};
}

std::optional<std::vector<std::string_view>> split_args(std::string_view rest, std::size_t max_args) {
    rest = text::trim_trailing_blanks(rest);
    std::vector<std::string_view> args;
    while (!rest.empty()) {
        const std::size_t sp = rest.find(' ');
        const std::string_view field = rest.substr(0, sp);
        if (field.empty() || args.size() == max_args) return std::nullopt;
        args.push_back(field);
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
        if (rest.empty()) return std::nullopt;
    }
    return args;
}

std::optional<std::uint64_t> parse_number(std::string_view s) { return text::parse_u64(s); }

}  // namespace pop3d::session
