// The POP3 engine (RFC 1939, 2449, 3206): states, the command table, CAPA
// and responses. It reads commands from a Transport, authenticates through
// an Authenticator, and serves a Maildrop; it knows no sockets, PAM or files.
#pragma once

#include "auth/authenticator.hpp"
#include "common/clock.hpp"
#include "log/log.hpp"
#include "mailbox/maildrop.hpp"
#include "session/line_reader.hpp"
#include "session/login_throttle.hpp"
#include "session/maildrop_opener.hpp"
#include "session/output_buffer.hpp"
#include "session/refusals.hpp"
#include "session/session_observer.hpp"
#include "session/transport.hpp"

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pop3d::session {

struct SessionSettings {
    std::chrono::seconds idle_timeout{600};
    std::chrono::seconds login_timeout{120};
    std::chrono::seconds login_fail_delay{2};      // after the first failure from an address
    std::chrono::seconds login_fail_delay_max{30};  // the delay doubles per recent failure up to this
    unsigned auth_fail_budget = 0;                  // failures per address per window, then refused (0: none)
    std::chrono::seconds auth_fail_window{900};     // (for the log line; the throttle keeps the window)
    unsigned max_auth_failures = 3;
    unsigned max_command_errors = 10;  // 0: no limit
    std::size_t max_username_length = 64;
    std::string implementation = "pop3d";
    bool plaintext_auth = true;            // USER/PASS and AUTH PLAIN allowed without TLS here
    unsigned login_delay = 0;              // advertised LOGIN-DELAY seconds (0: none)
    std::optional<unsigned> expire_days;   // EXPIRE; nullopt: NEVER; 0: RETR'd messages go at QUIT
    uid_t running_as = 0;                  // pop3d's euid: without root only this uid can be served
};

enum class SessionEnd {
    quit,           // QUIT (UPDATE done if in TRANSACTION)
    update_failed,  // QUIT, but the expunge failed
    eof,            // client closed the connection
    timeout,
    too_many_errors,
    auth_failures,
    login_refused,  // maildrop could not be opened after a good login
    io_error,       // write failed, or a message could not be streamed
    stopped,        // daemon shutting down
    kicked,         // ended by the administrator (pop3d kick)
};

std::string_view to_string(SessionEnd end);

class Session {
public:
    static constexpr std::size_t kMaxCommandLine = 255;  // RFC 2449 §4, with CRLF
    // A SASL response line (RFC 5034 §4 lets it exceed 255 octets): room for
    // PLAIN's three 255-octet fields in base64, with CRLF.
    static constexpr std::size_t kMaxSaslLine = 1024 + 2;
    static constexpr std::size_t kInputBuffer = 2048;
    // How long a quiet client keeps its output buffer and read-ahead window.
    static constexpr std::chrono::milliseconds kKeepBuffers{20};
    static constexpr unsigned kMaxRefusalLines = 10;  // per session

    // throttle: failed logins per address across sessions (nullptr: this session's only).
    // connection: who the caller's log lines say this is (its session id).
    Session(Transport& transport, auth::Authenticator& authenticator, MaildropOpener& opener, Clock& clock,
            SessionSettings settings, auth::ClientInfo client, LoginThrottle* throttle = nullptr,
            log::Connection connection = {});
    SessionEnd run();
    // Told of the login and of UPDATE (nullptr: nobody is).
    void set_observer(SessionObserver* observer) { observer_ = observer; }
    const log::Connection& connection() const { return connection_; }
    const std::string& id() const { return connection_.session; }

private:
    enum class State { authorization, transaction };
    using Args = std::vector<std::string_view>;
    struct CommandSpec;
    static const CommandSpec kCommands[];

    void dispatch(std::string_view line);
    void protocol_error(std::string_view response);
    void respond(std::string_view line);
    // Sends what the output buffer holds; before login within the login deadline.
    bool flush();
    void end(SessionEnd why) { end_ = why; }
    // The daemon is stopping, or the administrator ended this session: tell
    // the client which, end without UPDATE.
    bool wait_for_input();
    void log_end();
    std::chrono::milliseconds wait_quietly(std::chrono::milliseconds timeout);
    void shut_down();
    // Resolves a message-number argument; sends -ERR and returns nullopt when bad.
    std::optional<std::size_t> message_arg(std::string_view arg, bool allow_deleted = false);
    // The client fields of a log line: user (none before login) and address.
    log::Client who(std::string_view user = {}) const;

    // Handlers get the raw argument text (USER, PASS) or the arguments
    // already split and counted against the command table.
    void cmd_user(std::string_view rest);
    void cmd_pass(std::string_view rest);
    void cmd_auth(std::string_view rest);
    void cmd_stls(std::string_view rest);
    void sasl_response(std::string_view line);
    void plain_login(std::string_view response);
    // PASS and AUTH end here: the budget, PAM, the uniform delay on failure, the maildrop.
    void try_login(const std::string& user, std::string_view password);
    // Asks the authenticator inside a login slot; false (answered) when no
    // slot came before the login deadline.
    bool check_credentials(const std::string& user, std::string_view password, auth::AuthResult& result);
    // A failed login: keeps the guess (counts it) when the refusal counts
    // against the address, waits out the delay (counted from `started`,
    // doubled per failure from the address before this guess), logs,
    // answers refused.reply, and may end the session.
    void login_failed(Clock::time_point started, ReservedGuess& guess, std::string_view user, std::string_view why,
                      Refusal refused);
    // The address spent its budget: the same delay, then refused and closed.
    void login_blocked(Clock::time_point started, unsigned recent, std::string_view user);
    std::chrono::milliseconds fail_delay(unsigned recent) const;
    bool plaintext_allowed() const;
    // Before login: the client may not go on as it asked. Answers, logs
    // why, and counts it as a command error. Only the first
    // kMaxRefusalLines are logged (max_command_errors may be 0: no limit);
    // the session's last line counts the rest. user: the name the client
    // gave, if any (escaped by the log layer); why: the rest of the line.
    void refuse(std::string_view response, const log::Event& event, std::string_view user, std::string_view why);
    std::vector<std::string> capabilities() const;
    void cmd_quit(const Args& args);
    void cmd_capa(const Args& args);
    void cmd_stat(const Args& args);
    void cmd_list(const Args& args);
    void cmd_retr(const Args& args);
    void cmd_top(const Args& args);
    void cmd_dele(const Args& args);
    void cmd_noop(const Args& args);
    void cmd_rset(const Args& args);
    void cmd_uidl(const Args& args);

    void login(const auth::Account& account);
    bool send_message(std::size_t index, std::optional<std::uint64_t> body_lines, std::string_view status_line);
    std::pair<std::size_t, std::uint64_t> totals() const;  // messages and octets not deleted
    // For the logout line: deleted and remaining messages; with
    // count_deleted false everything counts as remaining (no UPDATE).
    struct Tally {
        std::size_t deleted = 0, left = 0;
        std::uint64_t deleted_octets = 0, left_octets = 0;
    };
    Tally tally(bool count_deleted) const;

    Transport& transport_;
    auth::Authenticator& authenticator_;
    MaildropOpener& opener_;
    Clock& clock_;
    SessionSettings settings_;
    auth::ClientInfo client_;
    LoginThrottle* throttle_;
    log::Connection connection_;
    SessionObserver* observer_ = nullptr;

    LineReader reader_{kInputBuffer};
    OutputBuffer out_;
    State state_ = State::authorization;
    std::optional<SessionEnd> end_;
    Clock::time_point login_deadline_;
    unsigned command_errors_ = 0;
    unsigned auth_failures_ = 0;
    unsigned refusals_ = 0;

    std::string user_;  // name given by USER, waiting for PASS
    bool sasl_pending_ = false;  // "+ " sent: the next line is the SASL response
    std::string account_name_;
    std::unique_ptr<mailbox::Maildrop> maildrop_;
    std::vector<bool> deleted_;
    std::vector<bool> retrieved_set_;  // for EXPIRE 0: retrieved messages go at QUIT
    std::optional<Tally> final_tally_;  // taken at QUIT, before the maildrop closes
    std::size_t retrieved_ = 0;
    std::uint64_t retrieved_octets_ = 0;
};

}  // namespace pop3d::session
