#include "app/control.hpp"

#include "app/failure_table.hpp"
#include "app/runtime_dir.hpp"
#include "app/serve.hpp"
#include "app/session_registry.hpp"
#include "auth/username.hpp"
#include "common/text.hpp"
#include "log/events.hpp"
#include "net/address_key.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <optional>
#include <thread>

namespace pop3d::app {

namespace {

// How long pop3d kick waits for the sessions it told to end.
constexpr std::chrono::seconds kKickWait{5};

// What each command takes after its name.
struct CommandSpec {
    std::string_view name;
    std::string_view argument;  // "" for none
};
constexpr std::array<CommandSpec, 3> kCommands{{{"who", ""}, {"kick", "USER"}, {"unblock", "ADDR|all"}}};

// runtime_dir/NAME, when it exists and this user may use it; else says why.
std::optional<std::string> state_file(const config::Config& c, const char* name, std::ostream& err) {
    if (c.runtime_dir.empty()) {
        err << "pop3d: runtime_dir is empty: every pop3d keeps its sessions and failed logins to itself, "
               "out of reach\n";
        return std::nullopt;
    }
    const std::string path = runtime_file(c, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int e = errno;
        if (e == ENOENT)
            err << "pop3d: no " << path << ": no pop3d has served a connection with runtime_dir " << c.runtime_dir
                << " (is the daemon running? give this command its -c and -o)\n";
        else
            err << "pop3d: " << path << ": " << text::errno_text(e)
                << (e == EACCES ? " (run this as root)" : "") << "\n";
        return std::nullopt;
    }
    if (st.st_uid != ::geteuid()) {
        err << "pop3d: " << path << " belongs to "
            << (st.st_uid == 0 ? std::string("root: run this as root")
                               : "uid " + std::to_string(st.st_uid) + ", the user pop3d runs as: run this as that user")
            << "\n";
        return std::nullopt;
    }
    return path;
}

std::string local_time(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    char buf[32];
    if (!::localtime_r(&tt, &tm) || std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) return "?";
    return buf;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        out << line << "\n";
    }
}

int who(SessionRegistry& registry, std::ostream& out) {
    std::vector<std::vector<std::string>> rows{{"SESSION", "USER", "ADDRESS", "PROXY", "SINCE", "STATE", "PID", "TID"}};
    for (const SessionRegistry::Row& r : registry.live())
        rows.push_back({r.session, or_dash(r.user), or_dash(r.address), or_dash(r.proxy), local_time(r.since),
                        std::string(to_string(r.phase)), std::to_string(r.pid), std::to_string(r.tid)});
    print_table(rows, out);
    return 0;
}

std::string describe(const SessionRegistry::Row& r) {
    return "session " + r.session + " (" + r.user + " from " + or_dash(r.address) + ")";
}

int kick(SessionRegistry& registry, const std::string& user, std::ostream& out, std::ostream& err) {
    std::vector<SessionRegistry::Row> told;
    for (const SessionRegistry::Row& r : registry.live()) {
        if (r.user != user || r.phase == Phase::authorization) continue;
        if (registry.kick(r) == SessionRegistry::Kick::gone) continue;
        const log::ConnectionScope scope(log::Connection{r.address, r.proxy, r.session});
        log::write(log::event::kicked, log::user_field(user));
        told.push_back(r);
    }
    if (told.empty()) {
        err << "pop3d: no session of user '" << user << "' (pop3d who lists the sessions)\n";
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + kKickWait;
    auto running = [&] {
        return std::count_if(told.begin(), told.end(), [&](const auto& r) { return registry.still_there(r); });
    };
    while (running() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (const SessionRegistry::Row& r : told) {
        if (registry.still_there(r))
            out << describe(r) << " is still running its current command; it ends after it\n";
        else
            out << "ended " << describe(r) << "\n";
    }
    return 0;
}

int unblock(FailureTable& table, const std::string& what, std::ostream& out, std::ostream& err) {
    if (what == "all") {
        const FailureTable::Forgotten f = table.forget_all();
        const std::string addresses = std::to_string(f.addresses) + (f.addresses == 1 ? " address" : " addresses");
        const std::string said = "every address (" + addresses + ", " +
                                 text::count(f.failures, "failed login") + " forgotten)";
        log::write(log::event::unblocked, said);
        out << "unblocked " << said << "\n";
        return 0;
    }
    const std::string key = net::address_key_text(what);
    const std::optional<unsigned> n = table.forget(what);
    if (!n) {
        err << "pop3d: unblock: '" << text::escape_log_field(what) << "' is not an IP address (or all)\n";
        return 2;
    }
    if (*n == 0) {
        err << "pop3d: " << key << " has no failed logins counted: nothing to unblock\n";
        return 1;
    }
    const std::string said = key + " (" + text::count(*n, "failed login") + " forgotten)";
    log::write(log::event::unblocked, said);
    out << "unblocked " << said << "\n";
    return 0;
}

// The command's arguments are right: a known name, as many as it takes.
bool well_formed(const std::vector<std::string>& args, std::ostream& err) {
    for (const CommandSpec& spec : kCommands) {
        if (args[0] != spec.name) continue;
        const std::size_t want = spec.argument.empty() ? 1 : 2;
        if (args.size() == want) return true;
        err << "pop3d: usage: pop3d [-c FILE] [-o KEY=VALUE]... " << spec.name
            << (spec.argument.empty() ? "" : " ") << spec.argument << "\n";
        return false;
    }
    err << "pop3d: unknown command '" << text::escape_log_field(args[0]) << "'\n";
    return false;
}

}  // namespace

bool is_control_command(std::string_view word) {
    return std::any_of(kCommands.begin(), kCommands.end(), [&](const CommandSpec& c) { return c.name == word; });
}

int run_control(const ConfigSource& source, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
    if (args.empty() || !well_formed(args, err)) return 2;
    if (args[0] == "kick" && !auth::valid_username(args[1], 200)) {
        err << "pop3d: kick: '" << text::escape_log_field(args[1]) << "' is not a valid user name\n";
        return 2;
    }
    const config::LoadResult loaded = source.load();
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) err << "pop3d: " << e.text() << "\n";
        return 1;
    }
    const config::Config& c = loaded.config;
    const bool sessions = args[0] != "unblock";
    const std::optional<std::string> path = state_file(c, sessions ? "sessions" : "auth-failures", err);
    if (!path) return 1;
    std::string error;
    if (sessions) {
        const auto registry = SessionRegistry::attach(*path, &error);
        if (!registry) {
            err << "pop3d: " << error << "\n";
            return 1;
        }
        if (args[0] == "who") return who(*registry, out);
        start_logging(c);  // the kick goes into the log, next to the sessions' lines
        return kick(*registry, args[1], out, err);
    }
    const auto table = FailureTable::attach(*path, std::chrono::seconds(c.auth_fail_window), &error);
    if (!table) {
        err << "pop3d: " << error << "\n";
        return 1;
    }
    start_logging(c);
    return unblock(*table, args[1], out, err);
}

}  // namespace pop3d::app
