// Run-time configuration: every key, its default and its range live in the
// table in config.cpp; this struct holds the parsed values.
#pragma once

#include "common/civil_time.hpp"
#include "common/uidl_peer.hpp"
#include "net/address_match.hpp"
#include "net/listen_address.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pop3d::config {

enum class ProcessModel { threads, fork };
std::string_view name(ProcessModel model);  // as the key spells it

// Whose UIDLs the messages an old server listed keep (issue 22).
using UidlCompat = UidlPeer;  // common/uidl_peer.hpp

// A value parsed once, when the config is loaded, and kept as the admin
// wrote it too: pop3d -T and messages show that text, SIGHUP compares it.
template <class T>
struct Spelled {
    std::string text;
    T value{};
};

struct Config {
    // Authentication
    std::string pam_service;          // PAM service name
    std::string pam_confdir;          // private PAM config dir (empty: the system's)
    unsigned login_fail_delay = 2;    // seconds before a failed login is answered
    unsigned login_fail_delay_max = 30;  // ...doubling per recent failure from the address, up to this
    unsigned auth_fail_budget = 20;   // failed logins per address per window, then refused (0: no limit)
    unsigned auth_fail_window = 900;  // seconds
    unsigned max_auth_failures = 3;   // failed logins before the connection is closed
    unsigned max_concurrent_logins = 32;  // PAM checks running at once, host-wide (memory-hard hashes)
    unsigned max_username_length = 64;

    // Mailbox
    std::string mailbox;              // path pattern: %u user, %h home, %% percent
    std::string mail_group;           // group that may create dotlocks in the spool
    bool mbox_unquote = true;         // mboxrd: ">From " -> "From " when sending
    unsigned max_messages = 1000000;  // messages indexed per session (56 bytes each)
    unsigned lock_timeout = 10;       // seconds to wait for the mailbox locks
    unsigned dotlock_stale_age = 300; // seconds after which a dotlock is stale
    bool dotlock_check_pid = true;    // a dotlock whose pid is not running is stale
    UidlCompat uidl_compat = UidlCompat::none;  // the old server whose ids listed messages keep
    Spelled<std::optional<CivilTime>> uidl_compat_until;  // popa3d: From_ dates after this get pop3d's ids

    // Session
    unsigned login_delay = 0;         // seconds between two logins of a user (0: none), LOGIN-DELAY
    Spelled<std::optional<unsigned>> expire;  // EXPIRE in days, nullopt: never (0: RETR'd messages go at QUIT)
    unsigned idle_timeout = 600;      // seconds of inactivity in TRANSACTION
    unsigned login_timeout = 120;     // seconds allowed from connect to login
    unsigned max_command_errors = 10; // bad commands before disconnect (0: no limit)

    // Logging
    std::string log_facility;         // syslog facility
    std::string log_file;             // log to this file instead of syslog

    // Standalone daemon
    Spelled<std::vector<net::ListenAddress>> listen;  // "*:110", "127.0.0.1:1110 [::1]:1110"
    ProcessModel process_model = ProcessModel::threads;
    unsigned max_connections = 5000;
    unsigned max_connections_per_address = 32;
    unsigned thread_stack_size = 1024 * 1024;  // bytes (virtual: only touched pages cost)
    std::string pid_file;             // written when the daemon detaches
    unsigned shutdown_grace = 30;     // seconds sessions get to finish on SIGTERM
    std::string session_lock_dir;     // one session per maildrop (empty: off); shared by hosts sharing a spool
    std::string index_cache_dir;      // each maildrop's saved index and UIDs (empty: off)
    std::string runtime_dir;          // this host's state: the failed-login table (empty: per daemon)

    // Behind a load balancer (PROXY protocol)
    Spelled<net::NetworkList> proxy_trusted;  // networks whose PROXY header is believed (empty: none)
    unsigned proxy_timeout = 5;       // seconds to send the whole header

    // TLS (only with ./configure --with-openssl)
    std::string tls_cert;             // PEM certificate chain
    std::string tls_key;              // PEM private key
    std::string tls_min_protocol;     // TLSv1.2 or TLSv1.3
    std::string tls_ciphers;          // OpenSSL cipher list for TLS 1.2 (empty: OpenSSL's default)
    bool allow_plaintext_auth = false;  // USER/PASS, AUTH PLAIN before TLS from non-loopback clients
    bool implicit_tls = false;        // -i and Accept=yes: TLS from the first byte (pop3s)

    bool threads() const { return process_model == ProcessModel::threads; }
    bool tls_configured() const { return !tls_cert.empty() || !tls_key.empty(); }
};

// Defaults as built by configure.
Config defaults();

struct Problem {
    std::string where;    // "FILE:LINE", "-o", ...
    std::string message;
    std::string text() const { return where.empty() ? message : where + ": " + message; }
};

struct LoadResult {
    Config config;
    std::vector<Problem> errors;
    std::vector<Problem> warnings;
    bool ok() const { return errors.empty(); }
};

// Parse "key = value" text from `where` (a file name) into cfg.
void parse_text(std::string_view text, std::string_view where, Config& cfg, std::vector<Problem>& errors);

// Apply one "key=value" override (-o).
void apply_override(std::string_view kv, Config& cfg, std::vector<Problem>& errors);

// Defaults, then the file (missing is fine only when !file_required), then overrides,
// then cross-key checks and warnings.
LoadResult load(const std::string& file, bool file_required, const std::vector<std::string>& overrides);

// Lines "key = value" for every key, in table order (pop3d -T).
std::string dump(const Config& cfg);

// Key names with their one-line description and default (for docs and tests).
struct KeyInfo {
    std::string_view name;
    std::string_view description;
};
std::vector<KeyInfo> keys();

}  // namespace pop3d::config
