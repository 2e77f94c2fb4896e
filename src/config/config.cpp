#include "config/config.hpp"

#include "build_config.h"
#include "common/text.hpp"
#include "log/log.hpp"
#include "net/address_match.hpp"
#include "net/listen_address.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <variant>
#include <vector>

namespace pop3d::config {

namespace {

enum class Unit { plain, seconds, bytes };
struct UintRange {
    unsigned Config::*field;
    unsigned min;
    unsigned max;
    Unit unit;  // seconds accept s/m/h suffixes, bytes k/m
};
// A key parsed into a type when set: set returns an error or "", text
// gives the value back for pop3d -T.
struct Parsed {
    std::string (*set)(Config&, std::string_view);
    std::string (*text)(const Config&);
};
using Target = std::variant<std::string Config::*, bool Config::*, UintRange, Parsed>;
using Check = std::string (*)(const std::string&);  // returns an error or ""

struct Key {
    std::string_view name;
    Target target;
    Check check;
    std::string_view description;
};

std::string check_pam_service(const std::string& v) {
    if (v.empty()) return "must not be empty";
    if (v.find('/') != std::string::npos) return "must not contain '/'";
    return {};
}

std::string check_absolute_or_empty(const std::string& v) {
    if (!v.empty() && v.front() != '/') return "must be an absolute path";
    return {};
}

std::string check_mailbox_pattern(const std::string& v) {
    if (v.empty()) return "must not be empty";
    bool has_user = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '%') continue;
        if (i + 1 >= v.size()) return "ends with a lone '%'";
        const char c = v[++i];
        if (c == 'u' || c == 'h') has_user = true;
        else if (c != '%') return std::string("unknown escape '%") + c + "' (use %u, %h or %%)";
    }
    if (!has_user) return "must contain %u or %h, or every user would share one mailbox";
    if (v.front() != '/' && v.rfind("%h", 0) != 0) return "must be an absolute path or start with %h";
    // Reject "." and ".." components: the expanded path must stay where the admin put it.
    std::size_t start = 0;
    while (start <= v.size()) {
        const std::size_t end = v.find('/', start);
        const std::string part = v.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part == "." || part == "..") return "must not contain '.' or '..' components";
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return {};
}

std::string check_facility(const std::string& v) {
    return log::facility_from_name(v) < 0 ? "unknown syslog facility (mail, daemon, user, local0..local7)" : "";
}

// Member = Parse(text), or the parser's error.
template <auto Member, auto Parse>
std::string set_spelled(Config& c, std::string_view v) {
    std::string error;
    auto parsed = Parse(v, &error);
    if (!parsed) return error;
    c.*Member = {std::string(v), std::move(*parsed)};
    return {};
}
constexpr auto set_listen = set_spelled<&Config::listen, &net::parse_listen_list>;

std::string set_process_model(Config& c, std::string_view v) {
    if (v == name(ProcessModel::threads)) c.process_model = ProcessModel::threads;
    else if (v == name(ProcessModel::fork)) c.process_model = ProcessModel::fork;
    else return "must be threads or fork";
    return {};
}

std::string process_model_text(const Config& c) { return std::string(name(c.process_model)); }

std::string set_uidl_compat(Config& c, std::string_view v) {
    const std::optional<UidlPeer> peer = parse_uidl_peer(v);
    if (!peer) return "must be none, popa3d, dovecot or uw";
    c.uidl_compat = *peer;
    return {};
}

std::string uidl_compat_text(const Config& c) { return std::string(name(c.uidl_compat)); }

std::string set_uidl_compat_until(Config& c, std::string_view v) {
    if (v.empty()) {
        c.uidl_compat_until = {};
        return {};
    }
    const auto t = parse_civil_time(v);
    if (!t) return "must be empty or a local date and time: YYYY-MM-DD [HH:MM[:SS]]";
    c.uidl_compat_until = {std::string(v), *t};
    return {};
}

std::string set_expire(Config& c, std::string_view v) {
    if (v == "never") {
        c.expire = {std::string(v), std::nullopt};
        return {};
    }
    const auto n = text::parse_u64(v);
    if (!n || *n > 36500) return "must be never or a number of days (0-36500)";
    c.expire = {std::string(v), static_cast<unsigned>(*n)};
    return {};
}

template <auto Member>
std::string spelled_text(const Config& c) {
    return (c.*Member).text;
}

std::string check_tls_protocol(const std::string& v) {
    return v == "TLSv1.2" || v == "TLSv1.3" ? "" : "must be TLSv1.2 or TLSv1.3";
}

std::string check_group(const std::string& v) {
    for (char c : v)
        if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= 0x20) return "not a valid group name";
    return {};
}

const Key kKeys[] = {
    {"pam_service", &Config::pam_service, check_pam_service,
     "PAM service name used to authenticate users"},
    {"pam_confdir", &Config::pam_confdir, check_absolute_or_empty,
     "directory of PAM service files used instead of /etc/pam.d (testing; empty: the system's)"},
    {"login_fail_delay", UintRange{&Config::login_fail_delay, 0, 60, Unit::seconds}, nullptr,
     "seconds from PASS to the answer of a failed login (same for unknown users)"},
    {"login_fail_delay_max", UintRange{&Config::login_fail_delay_max, 0, 600, Unit::seconds}, nullptr,
     "the failed-login delay doubles with each recent failure from the client's address, up to this"},
    {"auth_fail_budget", UintRange{&Config::auth_fail_budget, 0, 1000000, Unit::plain}, nullptr,
     "failed logins allowed from one address (IPv6: one /64) per auth_fail_window; then PAM is not asked (0: no limit)"},
    {"auth_fail_window", UintRange{&Config::auth_fail_window, 1, 86400 * 7, Unit::seconds}, nullptr,
     "seconds over which failed logins per address are counted (from the first failure)"},
    {"max_auth_failures", UintRange{&Config::max_auth_failures, 1, 100, Unit::plain}, nullptr,
     "failed logins on one connection before it is closed"},
    {"max_concurrent_logins", UintRange{&Config::max_concurrent_logins, 1, 1024, Unit::plain}, nullptr,
     "logins checked by PAM at the same time on the host; the rest wait their turn until the login timeout"},
    {"max_username_length", UintRange{&Config::max_username_length, 1, 200, Unit::plain}, nullptr,
     "longest user name accepted"},
    {"mailbox", &Config::mailbox, check_mailbox_pattern,
     "mailbox path pattern: %u user name, %h home directory, %% a percent sign"},
    {"mail_group", &Config::mail_group, check_group,
     "group allowed to create dotlocks in the spool directory (empty: none)"},
    {"mbox_unquote", &Config::mbox_unquote, nullptr,
     "remove one '>' from lines matching >+From when sending (mboxrd)"},
    {"uidl_compat", Parsed{set_uidl_compat, uidl_compat_text}, nullptr,
     "give messages an old server listed the UIDL it gave them: none, popa3d, dovecot or uw (popa3d 1.0.3, "
     "Dovecot's X-UID in its Debian default format, UW c-client's X-UID); the mailbox is never written"},
    {"uidl_compat_until",
     Parsed{set_uidl_compat_until, spelled_text<&Config::uidl_compat_until>}, nullptr,
     "with uidl_compat = popa3d: messages whose From_ line date is later than this local time "
     "(YYYY-MM-DD [HH:MM[:SS]], the switch) get pop3d's own ids (empty: none do)"},
    {"max_messages", UintRange{&Config::max_messages, 1, 100000000, Unit::plain}, nullptr,
     "messages a session serves from one mailbox (56 bytes of memory each); the rest wait until those are deleted"},
    {"lock_timeout", UintRange{&Config::lock_timeout, 0, 3600, Unit::seconds}, nullptr,
     "seconds to keep trying to lock the mailbox at login and at QUIT"},
    {"dotlock_stale_age", UintRange{&Config::dotlock_stale_age, 10, 86400, Unit::seconds}, nullptr,
     "age in seconds after which another program's dotlock is considered stale"},
    {"dotlock_check_pid", &Config::dotlock_check_pid, nullptr,
     "a dotlock naming a process that is not running is stale (set no when hosts share the spool)"},
    {"login_delay", UintRange{&Config::login_delay, 0, 86400 * 7, Unit::seconds}, nullptr,
     "minimum seconds between two logins of one user, advertised as LOGIN-DELAY (0: none)"},
    {"expire", Parsed{set_expire, spelled_text<&Config::expire>}, nullptr,
     "EXPIRE advertised in CAPA: never, or days; 0 deletes retrieved messages at QUIT"},
    {"idle_timeout", UintRange{&Config::idle_timeout, 1, 86400, Unit::seconds}, nullptr,
     "seconds without a command before a logged-in session is closed (RFC 1939: at least 600)"},
    {"login_timeout", UintRange{&Config::login_timeout, 1, 86400, Unit::seconds}, nullptr,
     "seconds a client has from connecting to logging in"},
    {"max_command_errors", UintRange{&Config::max_command_errors, 0, 100000, Unit::plain}, nullptr,
     "unknown, malformed or out-of-state commands before disconnect (0: no limit)"},
    {"log_facility", &Config::log_facility, check_facility,
     "syslog facility"},
    {"log_file", &Config::log_file, check_absolute_or_empty,
     "append log lines to this file instead of sending them to syslog (empty: syslog)"},
    {"listen", Parsed{set_listen, spelled_text<&Config::listen>}, nullptr,
     "addresses the standalone daemon listens on: ADDR[:PORT], [V6ADDR][:PORT] or *[:PORT] (both families)"},
    {"process_model", Parsed{set_process_model, process_model_text}, nullptr,
     "threads (one thread per connection) or fork (one process per connection)"},
    {"max_connections", UintRange{&Config::max_connections, 1, 1000000, Unit::plain}, nullptr,
     "connections served at once; more get -ERR [SYS/TEMP]"},
    {"max_connections_per_address", UintRange{&Config::max_connections_per_address, 1, 1000000, Unit::plain},
     nullptr, "connections served at once from one client address"},
    {"thread_stack_size", UintRange{&Config::thread_stack_size, 64 * 1024, 64 * 1024 * 1024, Unit::bytes}, nullptr,
     "stack size of each session thread (bytes, or with k/m); PAM modules run on it"},
    {"pid_file", &Config::pid_file, check_absolute_or_empty,
     "pid file written when the daemon detaches (empty: none)"},
    {"shutdown_grace", UintRange{&Config::shutdown_grace, 0, 3600, Unit::seconds}, nullptr,
     "seconds running sessions get to finish after SIGTERM"},
    {"session_lock_dir", &Config::session_lock_dir, check_absolute_or_empty,
     "directory of per-maildrop session locks: a second session of a maildrop gets [IN-USE] (empty: off); "
     "hosts that share a spool share it too"},
    {"index_cache_dir", &Config::index_cache_dir, check_absolute_or_empty,
     "directory where each session leaves its maildrop's index and UIDs for the next one, which checks them "
     "against every byte before use (empty: off, every session indexes and hashes anew)"},
    {"runtime_dir", &Config::runtime_dir, check_absolute_or_empty,
     "this host's runtime state, the failed-login table shared by its pop3d processes (empty: per daemon); "
     "never on a shared filesystem"},
    {"proxy_trusted",
     Parsed{set_spelled<&Config::proxy_trusted, &net::NetworkList::parse>, spelled_text<&Config::proxy_trusted>},
     nullptr,
     "load balancers whose PROXY protocol header (v1 or v2) names the client: addresses or networks "
     "(10.0.0.5 192.0.2.0/24 2001:db8::/32); a connection from one must start with the header (empty: none)"},
    {"proxy_timeout", UintRange{&Config::proxy_timeout, 1, 3600, Unit::seconds}, nullptr,
     "seconds a trusted proxy has to send the whole PROXY header"},
    {"tls_cert", &Config::tls_cert, check_absolute_or_empty,
     "TLS certificate chain, PEM (needs a build with --with-openssl)"},
    {"tls_key", &Config::tls_key, check_absolute_or_empty, "TLS private key, PEM"},
    {"tls_min_protocol", &Config::tls_min_protocol, check_tls_protocol, "oldest TLS version accepted: TLSv1.2 or TLSv1.3"},
    {"tls_ciphers", &Config::tls_ciphers, nullptr, "OpenSSL cipher list for TLS 1.2 (empty: OpenSSL's default)"},
    {"allow_plaintext_auth", &Config::allow_plaintext_auth, nullptr,
     "with TLS configured, accept USER/PASS and AUTH PLAIN before TLS from non-loopback clients"},
    {"implicit_tls", &Config::implicit_tls, nullptr,
     "pop3d -i and systemd Accept=yes: speak TLS from the first byte (port 995)"},
};

const Key* find_key(std::string_view name) {
    for (const Key& k : kKeys)
        if (k.name == name) return &k;
    return nullptr;
}

// A '#' that starts the value or follows a blank in it: a comment, which
// the syntax allows only on a line of its own.
bool has_trailing_comment(std::string_view value) {
    for (std::size_t i = value.find('#'); i != std::string_view::npos; i = value.find('#', i + 1))
        if (i == 0 || value[i - 1] == ' ' || value[i - 1] == '\t') return true;
    return false;
}

char fold(char c) { return c == '-' ? '_' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); }

// Edits (insert, delete, replace, swap two neighbours) from a to b, case
// and '-' versus '_' not counted.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

// The key an unknown name was most likely meant to be ("" if none is close).
std::string_view closest_key(std::string_view name) {
    if (name.size() > 64) return {};
    const std::size_t most = std::clamp<std::size_t>(name.size() / 3, 1, 3);
    std::string_view best;
    std::size_t best_distance = most + 1;
    for (const Key& k : kKeys) {
        const std::size_t dist = edit_distance(name, k.name);
        if (dist < best_distance) {
            best = k.name;
            best_distance = dist;
        }
    }
    return best;
}

std::optional<unsigned> parse_number(std::string_view v, Unit unit) {
    unsigned long mult = 1;
    if (unit == Unit::seconds && !v.empty()) {
        switch (v.back()) {
        case 's': mult = 1; v.remove_suffix(1); break;
        case 'm': mult = 60; v.remove_suffix(1); break;
        case 'h': mult = 3600; v.remove_suffix(1); break;
        default: break;
        }
    } else if (unit == Unit::bytes && !v.empty()) {
        switch (v.back()) {
        case 'k': case 'K': mult = 1024; v.remove_suffix(1); break;
        case 'm': case 'M': mult = 1024 * 1024; v.remove_suffix(1); break;
        default: break;
        }
    }
    const auto n = text::parse_u64(v);
    if (!n || *n > 0xffffffffULL / mult) return std::nullopt;
    return static_cast<unsigned>(*n * mult);
}

std::optional<bool> parse_bool(std::string_view v) {
    if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
    if (v == "no" || v == "false" || v == "off" || v == "0") return false;
    return std::nullopt;
}

// Sets one key; returns an error message or "".
std::string set_key(Config& cfg, std::string_view name, std::string_view value) {
    const Key* key = find_key(name);
    if (!key) {
        const std::string_view guess = closest_key(name);
        return "unknown key '" + text::escape_for_log(name, 64) + "'" +
               (guess.empty() ? "" : " (did you mean '" + std::string(guess) + "'?)");
    }
    std::string err;
    std::visit(
        [&](auto&& t) {
            using T = std::decay_t<decltype(t)>;
            if constexpr (std::is_same_v<T, std::string Config::*>) {
                std::string v(value);
                if (key->check) err = key->check(v);
                if (err.empty()) cfg.*t = std::move(v);
            } else if constexpr (std::is_same_v<T, Parsed>) {
                err = t.set(cfg, value);
            } else if constexpr (std::is_same_v<T, bool Config::*>) {
                const auto b = parse_bool(value);
                if (!b) err = "expects yes or no";
                else cfg.*t = *b;
            } else {
                const auto n = parse_number(value, t.unit);
                static constexpr const char* kinds[] = {"a number ", "a duration (seconds, or with s/m/h) ",
                                                        "a size (bytes, or with k/m) "};
                if (!n || *n < t.min || *n > t.max)
                    err = "expects " + std::string(kinds[static_cast<int>(t.unit)]) + "from " + std::to_string(t.min) +
                          " to " + std::to_string(t.max);
                else cfg.*t.field = *n;
            }
        },
        key->target);
    if (!err.empty()) err = std::string(name) + ": " + err;
    return err;
}

std::string value_text(const Config& cfg, const Key& key) {
    return std::visit(
        [&](auto&& t) -> std::string {
            using T = std::decay_t<decltype(t)>;
            if constexpr (std::is_same_v<T, std::string Config::*>) return cfg.*t;
            else if constexpr (std::is_same_v<T, Parsed>) return t.text(cfg);
            else if constexpr (std::is_same_v<T, bool Config::*>) return cfg.*t ? "yes" : "no";
            else return std::to_string(cfg.*t.field);
        },
        key.target);
}

}  // namespace


std::string_view name(ProcessModel model) {
    return model == ProcessModel::threads ? "threads" : "fork";
}

Config defaults() {
    Config c;
    c.pam_service = POP3D_DEFAULT_PAM_SERVICE;
    c.mailbox = POP3D_DEFAULT_MAILBOX;
    c.mail_group = "mail";
    c.log_facility = "mail";
    set_listen(c, "*:110");
    set_expire(c, "never");
    c.tls_min_protocol = "TLSv1.2";
    c.pid_file = std::string(POP3D_RUNSTATEDIR) + "/pop3d.pid";
    c.session_lock_dir = std::string(POP3D_RUNSTATEDIR) + "/pop3d";
    c.runtime_dir = std::string(POP3D_RUNSTATEDIR) + "/pop3d";
    c.index_cache_dir = "/var/cache/pop3d";  // the FHS's place for data that can be made again, whatever the prefix
    return c;
}

void parse_text(std::string_view text, std::string_view where, Config& cfg, std::vector<Problem>& errors) {
    unsigned lineno = 0;
    while (!text.empty()) {
        ++lineno;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        line = text::trim(line);
        if (line.empty() || line.front() == '#') continue;
        const std::string loc = std::string(where) + ":" + std::to_string(lineno);
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            errors.push_back({loc, "expected 'key = value'"});
            continue;
        }
        const std::string_view key = text::trim(line.substr(0, eq));
        const std::string_view value = text::trim(line.substr(eq + 1));
        // "key = 10 # why": refused, neither read as a comment nor taken into the value unnoticed.
        if (find_key(key) && has_trailing_comment(value)) {
            errors.push_back({loc, std::string(key) + ": '" + text::escape_for_log(value, 64) +
                                       "' has a comment after the value: a comment needs a line of its own"});
            continue;
        }
        const std::string err = set_key(cfg, key, value);
        if (!err.empty()) errors.push_back({loc, err});
    }
}

void apply_override(std::string_view kv, Config& cfg, std::vector<Problem>& errors) {
    // The option itself is the place to name ("-o idle_timeout=abc"), as
    // FILE:LINE is for a line of the file: it already shows the key.
    const std::string where = "-o " + text::escape_for_log(kv, 200);
    const std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos) {
        errors.push_back({where, "expected key=value"});
        return;
    }
    const std::string_view key = text::trim(kv.substr(0, eq));
    std::string err = set_key(cfg, key, text::trim(kv.substr(eq + 1)));
    if (err.empty()) return;
    if (const std::string named = std::string(key) + ": "; err.starts_with(named)) err.erase(0, named.size());
    errors.push_back({where, err});
}

LoadResult load(const std::string& file, bool file_required, const std::vector<std::string>& overrides) {
    LoadResult r;
    r.config = defaults();
    std::ifstream in(file, std::ios::binary);
    if (in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        if (in.bad()) r.errors.push_back({file, "read error"});
        else parse_text(ss.str(), file, r.config, r.errors);
    } else if (file_required || errno != ENOENT) {
        r.errors.push_back({file, "cannot open: " + text::errno_text(errno)});
    }
    for (const std::string& o : overrides) apply_override(o, r.config, r.errors);

    if (r.config.idle_timeout < 600)
        r.warnings.push_back({"idle_timeout", "below the 600 seconds RFC 1939 requires"});
    if (r.config.max_username_length > 200)
        r.errors.push_back({"max_username_length", "too large"});
    if (r.config.login_delay > 0 && r.config.session_lock_dir.empty())
        r.errors.push_back({"login_delay", "needs session_lock_dir: logins are remembered there"});
    if (r.config.tls_cert.empty() != r.config.tls_key.empty())
        r.errors.push_back({"tls_cert", "tls_cert and tls_key go together"});
    return r;
}

std::string dump(const Config& cfg) {
    std::string out;
    for (const Key& k : kKeys) {
        out += k.name;
        out += " = ";
        out += value_text(cfg, k);
        out += '\n';
    }
    return out;
}

std::vector<KeyInfo> keys() {
    std::vector<KeyInfo> v;
    for (const Key& k : kKeys) v.push_back({k.name, k.description});
    return v;
}

}  // namespace pop3d::config
