// Logging: syslog (facility mail by default) or an append-only file. Callers
// pass text that is already escaped where it holds client data
// (text::escape_for_log); passwords are never passed here.
#pragma once

#include <string>
#include <string_view>

namespace pop3d::log {

enum class Level { err, warning, notice, info, debug };

int facility_from_name(std::string_view name);  // -1 when unknown

// Switch the destination. Before either call, messages go to stderr (for
// command-line errors only; pop3d -i switches before reading the config).
void use_syslog(int facility);
bool use_file(const std::string& path, std::string* error);  // keeps syslog on failure
void use_stderr();
void also_stderr(bool on);  // foreground daemons: copy every line to stderr

void write(Level level, std::string_view message);
inline void err(std::string_view m) { write(Level::err, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void notice(std::string_view m) { write(Level::notice, m); }
inline void info(std::string_view m) { write(Level::info, m); }

}  // namespace pop3d::log
