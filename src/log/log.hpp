// Logging: syslog (facility mail by default) or an append-only file. Fields
// a client chose (user name, address) are passed as a Client and escaped
// here; other client data in the rest is escaped by the caller
// (text::escape_for_log); passwords are never passed here.
//
// Every line is one of the events of log/events.hpp: its fixed words come
// first, then what the caller adds. Lines written while a ConnectionScope
// is alive in the thread end with the connection's fields, so each line of
// a session can be found by its session id, whatever the launch mode.
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
// Foreground daemons: copy every line to stderr as well. Not while lines
// go to syslog and stderr is the systemd journal (JOURNAL_STREAM names
// it): syslog reaches the journal already, and each line would be there twice.
void also_stderr(bool on);

// A kind of line. Only log/events.hpp defines them: pop3d(8) LOGGING lists
// each (tests/integration/test_log_catalogue.py checks).
struct Event {
    std::string_view text;  // the fixed words the line starts with
    Level level;
    // The rest of the line names the client (rip=...) where fail2ban and
    // admins expect it; otherwise a line inside a ConnectionScope gets the
    // client's fields appended.
    bool names_client = false;
};

// The connection a line is about.
struct Connection {
    std::string address;  // the client's numeric address ("" unknown)
    std::string proxy;    // the balancer's, when a PROXY header named the client
    std::string session;  // the session id (log/session_id.hpp)
    std::string text() const;  // for log lines: "rip=A" or "rip=A proxy=P"
};

// While it lives, every line this thread writes ends with
// "rip=A [proxy=P] session=ID" (without rip/proxy when the event names the
// client itself). Scopes nest; the innermost counts.
class ConnectionScope {
public:
    explicit ConnectionScope(Connection connection);
    ~ConnectionScope();
    ConnectionScope(const ConnectionScope&) = delete;
    ConnectionScope& operator=(const ConnectionScope&) = delete;

private:
    Connection connection_;
    const Connection* outer_;
};

// "rip=A", or "rip=unknown" when the address is not known: the one place
// that spells it.
std::string rip_field(std::string_view address);
// "user=U", U escaped (text::escape_log_field): a name the client chose
// cannot pose as another field.
std::string user_field(std::string_view user);

// The fields a line about a client starts with: "user=U rip=A" ("rip=A"
// with no user). Both are escaped here (text::escape_log_field), so a
// name like "x rip=10.9.9.9" stays one token whatever the call site passed.
struct Client {
    std::string_view user;     // "" before USER
    std::string_view address;  // "" unknown
};

// "EVENT REST" plus the connection's fields, as one line.
void write(const Event& event, std::string_view rest = {});
// "EVENT user=U rip=A" followed directly by rest (" (why)", ": detail").
void write(const Event& event, const Client& client, std::string_view rest);

// The lines write() would send (without the destination's prefix).
std::string format(const Event& event, std::string_view rest);
std::string format(const Event& event, const Client& client, std::string_view rest);

}  // namespace pop3d::log
