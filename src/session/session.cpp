#include "session/session.hpp"

#include "common/text.hpp"
#include "log/events.hpp"
#include "session/command.hpp"
#include "session/responses.hpp"

#include <algorithm>
#include <utility>

namespace pop3d::session {

struct Session::CommandSpec {
    using Raw = void (Session::*)(std::string_view rest);
    using Split = void (Session::*)(const Args& args);
    std::string_view name;
    bool in_authorization;
    bool in_transaction;
    std::size_t min_args;  // for Split handlers
    std::size_t max_args;
    std::variant<Raw, Split> handler;
};

const Session::CommandSpec Session::kCommands[] = {
    {"USER", true, false, 0, 0, &Session::cmd_user}, {"PASS", true, false, 0, 0, &Session::cmd_pass},
    {"AUTH", true, false, 0, 0, &Session::cmd_auth}, {"STLS", true, false, 0, 0, &Session::cmd_stls},
    {"QUIT", true, true, 0, 0, &Session::cmd_quit},  {"CAPA", true, true, 0, 0, &Session::cmd_capa},
    {"STAT", false, true, 0, 0, &Session::cmd_stat}, {"LIST", false, true, 0, 1, &Session::cmd_list},
    {"RETR", false, true, 1, 1, &Session::cmd_retr}, {"TOP", false, true, 2, 2, &Session::cmd_top},
    {"DELE", false, true, 1, 1, &Session::cmd_dele}, {"NOOP", false, true, 0, 0, &Session::cmd_noop},
    {"RSET", false, true, 0, 0, &Session::cmd_rset}, {"UIDL", false, true, 0, 1, &Session::cmd_uidl},
};

std::string_view to_string(SessionEnd end) {
    switch (end) {
    case SessionEnd::quit: return "QUIT";
    case SessionEnd::update_failed: return "QUIT-failed";
    case SessionEnd::eof: return "disconnect";
    case SessionEnd::timeout: return "timeout";
    case SessionEnd::too_many_errors: return "errors";
    case SessionEnd::auth_failures: return "auth-failures";
    case SessionEnd::login_refused: return "maildrop-unavailable";
    case SessionEnd::io_error: return "io-error";
    case SessionEnd::stopped: return "shutdown";
    case SessionEnd::kicked: return "kicked";
    }
    return "unknown";
}

Session::Session(Transport& transport, auth::Authenticator& authenticator, MaildropOpener& opener, Clock& clock,
                 SessionSettings settings, auth::ClientInfo client, LoginThrottle* throttle,
                 log::Connection connection)
    : transport_(transport),
      authenticator_(authenticator),
      opener_(opener),
      clock_(clock),
      settings_(std::move(settings)),
      client_(std::move(client)),
      throttle_(throttle),
      connection_(std::move(connection)),
      out_(transport) {}

log::Client Session::who(std::string_view user) const { return {user, client_.address}; }

void Session::respond(std::string_view line) {
    out_.write(line);
    out_.write("\r\n");
}

bool Session::flush() {
    using std::chrono::milliseconds;
    if (state_ == State::authorization) {
        const auto left = std::chrono::ceil<milliseconds>(login_deadline_ - clock_.now());
        transport_.limit_send_time(std::max(left, milliseconds(0)));
    }
    return out_.flush();
}

void Session::protocol_error(std::string_view response) {
    ++command_errors_;
    if (settings_.max_command_errors > 0 && command_errors_ >= settings_.max_command_errors) {
        respond(reply::kTooManyErrors);
        end(SessionEnd::too_many_errors);
        return;
    }
    respond(response);
}

SessionEnd Session::run() {
    login_deadline_ = clock_.now() + settings_.login_timeout;
    respond(reply::kGreeting);
    while (!end_) {
        std::string_view line;
        const LineReader::Next next = reader_.next(line, sasl_pending_ ? kMaxSaslLine : kMaxCommandLine);
        if (next == LineReader::Next::line) {
            if (transport_.stopping()) {  // a stop comes before commands the client sent ahead
                shut_down();
                break;
            }
            if (sasl_pending_) sasl_response(line);
            else dispatch(line);
            reader_.wipe_consumed();  // the line may have held a password
            continue;
        }
        if (next == LineReader::Next::too_long) {
            sasl_pending_ = false;
            protocol_error(reply::kLineTooLong);
            reader_.wipe_consumed();
            continue;
        }
        if (!wait_for_input()) break;
    }
    flush();
    log_end();
    return *end_;
}

// Nothing left to answer: sends what there is, then waits for the client.
// false: the session ends now.
bool Session::wait_for_input() {
    if (!flush()) {
        // Before login a client that does not read is cut at the login deadline.
        const bool late = state_ == State::authorization && clock_.now() >= login_deadline_;
        end(late ? SessionEnd::timeout : SessionEnd::io_error);
        return false;
    }
    // A client that pipelines with a window of commands, or sends the next
    // one as soon as it has read an answer, is back within microseconds: it
    // keeps the output buffer and the read-ahead window (its next messages
    // are served from the window, with no new read or allocation). A client
    // quiet for kKeepBuffers gives them back while it waits.
    const bool quiet = !transport_.readable_within(kKeepBuffers);
    if (quiet) {
        out_.release();
        if (maildrop_) maildrop_->release_buffers();
    }
    std::chrono::milliseconds timeout;
    if (state_ == State::authorization) {
        const auto left = login_deadline_ - clock_.now();
        if (left <= Clock::duration::zero()) {
            end(SessionEnd::timeout);
            return false;
        }
        timeout = std::chrono::ceil<std::chrono::milliseconds>(left);
    } else {
        timeout = settings_.idle_timeout;
    }
    if (quiet) timeout = wait_quietly(timeout);
    const std::span<char> space = reader_.space();
    const ReadResult r = transport_.read(space.data(), space.size(), timeout);
    switch (r.status) {
    case ReadStatus::data: reader_.commit(r.bytes); break;
    case ReadStatus::eof: end(SessionEnd::eof); break;
    case ReadStatus::timeout: end(SessionEnd::timeout); break;
    case ReadStatus::error: end(SessionEnd::io_error); break;
    case ReadStatus::stopped: shut_down(); break;
    }
    return true;
}

// The long wait of a quiet client holds no input buffer (unless a partial
// line is in it) and as little stack as the transport can give back.
// Returns what is left of timeout for the read that follows.
std::chrono::milliseconds Session::wait_quietly(std::chrono::milliseconds timeout) {
    reader_.release();
    const auto started = clock_.now();
    transport_.idle_wait(timeout);
    const auto waited = std::chrono::ceil<std::chrono::milliseconds>(clock_.now() - started);
    return std::max(timeout - waited, std::chrono::milliseconds(0));
}

void Session::log_end() {
    std::string why(to_string(*end_));
    // Refusals past the cap were not logged one by one.
    if (refusals_ > kMaxRefusalLines) why += " unlogged_refusals=" + std::to_string(refusals_ - kMaxRefusalLines);
    if (state_ == State::transaction) {
        // After a failed or missing UPDATE nothing was deleted.
        const Tally t = final_tally_ ? *final_tally_ : tally(false);
        const auto count = [](std::size_t n, std::uint64_t octets) {
            return std::to_string(n) + "/" + std::to_string(octets);
        };
        log::write(log::event::logout, who(account_name_),
                   " retr=" + count(retrieved_, retrieved_octets_) + " dele=" + count(t.deleted, t.deleted_octets) +
                       " left=" + count(t.left, t.left_octets) + " reason=" + why);
    } else {
        log::write(log::event::disconnect, who(), " reason=" + why);
    }
}

void Session::shut_down() {
    const bool kicked = transport_.kicked();
    respond(kicked ? reply::kKicked : reply::kShuttingDown);
    end(kicked ? SessionEnd::kicked : SessionEnd::stopped);
}

void Session::dispatch(std::string_view line) {
    const auto cmd = split_command(line);
    if (!cmd) {
        protocol_error(line.empty() ? reply::kUnknownCommand : reply::kBadCharacters);
        return;
    }
    for (const CommandSpec& spec : kCommands) {
        if (!text::iequals(spec.name, cmd->keyword)) continue;
        const bool allowed = state_ == State::authorization ? spec.in_authorization : spec.in_transaction;
        if (!allowed) {
            protocol_error(reply::kWrongState);
            return;
        }
        if (const auto* raw = std::get_if<CommandSpec::Raw>(&spec.handler)) {
            (this->*(*raw))(cmd->rest);
            return;
        }
        const auto args = split_args(cmd->rest, spec.max_args);
        if (!args || args->size() < spec.min_args) {
            protocol_error(reply::kBadArguments);
            return;
        }
        (this->*std::get<CommandSpec::Split>(spec.handler))(*args);
        return;
    }
    protocol_error(reply::kUnknownCommand);
}

std::optional<std::size_t> Session::message_arg(std::string_view arg, bool allow_deleted) {
    const auto n = parse_number(arg);
    if (!n) {
        protocol_error(reply::kBadArguments);
        return std::nullopt;
    }
    if (*n == 0 || *n > maildrop_->count()) {
        respond(reply::kNoSuchMessage);
        return std::nullopt;
    }
    const auto index = static_cast<std::size_t>(*n - 1);
    if (!allow_deleted && deleted_[index]) {
        respond(reply::kMessageDeleted);
        return std::nullopt;
    }
    return index;
}

Session::Tally Session::tally(bool count_deleted) const {
    Tally t;
    for (std::size_t i = 0; i < maildrop_->count(); ++i) {
        if (deleted_[i] && count_deleted) {
            ++t.deleted;
            t.deleted_octets += maildrop_->size(i);
        } else {
            ++t.left;
            t.left_octets += maildrop_->size(i);
        }
    }
    return t;
}

std::pair<std::size_t, std::uint64_t> Session::totals() const {
    std::size_t n = 0;
    std::uint64_t octets = 0;
    for (std::size_t i = 0; i < maildrop_->count(); ++i) {
        if (deleted_[i]) continue;
        ++n;
        octets += maildrop_->size(i);
    }
    return {n, octets};
}

// ---- both states ----

void Session::cmd_quit(const Args&) {
    if (state_ == State::authorization) {
        respond(reply::kBye);
        end(SessionEnd::quit);
        return;
    }
    // EXPIRE 0: what the client retrieved goes too (RFC 2449 §6.7), but only
    // if the maildrop can still be changed.
    if (!retrieved_set_.empty() && maildrop_->writable().ok())
        for (std::size_t i = 0; i < deleted_.size(); ++i) deleted_[i] = deleted_[i] || retrieved_set_[i];
    const auto deleted = static_cast<std::size_t>(std::count(deleted_.begin(), deleted_.end(), true));
    if (observer_) observer_->updating();
    const mailbox::Result r = maildrop_->expunge(deleted_);
    final_tally_ = tally(r.ok());
    maildrop_.reset();
    if (!r.ok()) {
        log::write(log::event::expunge_failed, who(account_name_), ": " + r.detail);
        respond(refusal(MaildropStep::update, r.status).reply);
        end(SessionEnd::update_failed);
        return;
    }
    respond(reply::bye_after_update(deleted));
    end(SessionEnd::quit);
}

std::vector<std::string> Session::capabilities() const {
    std::vector<std::string> caps = {"TOP", "UIDL"};
    if (plaintext_allowed()) {  // only what this connection may use now (RFC 2595 §2.3)
        caps.emplace_back("USER");
        caps.emplace_back("SASL PLAIN");
    }
    caps.insert(caps.end(), {"RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"});
    if (state_ == State::authorization && transport_.tls_startable() && !transport_.tls_active())
        caps.emplace_back("STLS");
    if (settings_.login_delay > 0) caps.push_back("LOGIN-DELAY " + std::to_string(settings_.login_delay));
    caps.push_back(settings_.expire_days ? "EXPIRE " + std::to_string(*settings_.expire_days) : "EXPIRE NEVER");
    if (state_ == State::transaction) caps.push_back("IMPLEMENTATION " + settings_.implementation);
    return caps;
}

void Session::cmd_capa(const Args&) {
    respond(reply::kCapaFollows);
    for (const std::string& cap : capabilities()) respond(cap);
    respond(".");
}

// ---- TRANSACTION ----

void Session::cmd_stat(const Args&) {
    const auto [n, octets] = totals();
    respond(reply::ok_pair(n, octets));
}

void Session::cmd_list(const Args& args) {
    if (args.size() == 1) {
        const auto i = message_arg(args[0]);
        if (i) respond(reply::ok_pair(*i + 1, maildrop_->size(*i)));
        return;
    }
    const auto [n, octets] = totals();
    respond(reply::list_follows(n, octets));
    for (std::size_t i = 0; i < maildrop_->count(); ++i)
        if (!deleted_[i]) respond(std::to_string(i + 1) + " " + std::to_string(maildrop_->size(i)));
    respond(".");
}

bool Session::send_message(std::size_t index, std::optional<std::uint64_t> body_lines, std::string_view status_line) {
    const auto log_failure = [&](const log::Event& event, const std::string& detail) {
        log::write(event, who(account_name_), " message=" + std::to_string(index + 1) + ": " + detail);
    };
    if (const mailbox::Result r = maildrop_->check(index); !r.ok()) {
        log_failure(log::event::message_unavailable, r.detail);
        respond(reply::kMessageUnavailable);
        return false;
    }
    respond(status_line);
    if (const mailbox::Result r = maildrop_->send(index, body_lines, out_); !r.ok()) {
        // Part of the message may be out: only closing the connection tells
        // the client it is incomplete.
        log_failure(log::event::send_failed, r.detail);
        end(SessionEnd::io_error);
        return false;
    }
    out_.write(".\r\n");
    return true;
}

void Session::cmd_retr(const Args& args) {
    const auto i = message_arg(args[0]);
    if (!i) return;
    const std::uint64_t size = maildrop_->size(*i);
    if (send_message(*i, std::nullopt, reply::retr_follows(size))) {
        ++retrieved_;
        retrieved_octets_ += size;
        if (!retrieved_set_.empty()) retrieved_set_[*i] = true;
    }
}

void Session::cmd_top(const Args& args) {
    const auto lines = parse_number(args[1]);
    if (!lines) {
        protocol_error(reply::kBadArguments);
        return;
    }
    const auto i = message_arg(args[0]);
    if (!i) return;
    send_message(*i, lines, reply::kTopFollows);
}

void Session::cmd_dele(const Args& args) {
    const auto i = message_arg(args[0]);
    if (!i) return;
    if (const mailbox::Result w = maildrop_->writable(); !w.ok()) {
        respond(refusal(MaildropStep::dele, w.status).reply);
        return;
    }
    deleted_[*i] = true;
    respond(reply::deleted(*i + 1));
}

void Session::cmd_noop(const Args&) {
    respond(reply::kNoop);
}

void Session::cmd_rset(const Args&) {
    std::fill(deleted_.begin(), deleted_.end(), false);
    const auto [n, octets] = totals();
    respond(reply::maildrop_has(n, octets));
}

void Session::cmd_uidl(const Args& args) {
    std::optional<std::size_t> one;
    if (args.size() == 1) {
        one = message_arg(args[0]);
        if (!one) return;
    }
    if (const mailbox::Result r = maildrop_->load_uids(); !r.ok()) {
        log::write(log::event::uids_unavailable, who(account_name_), ": " + r.detail);
        respond(reply::kUidsUnavailable);
        return;
    }
    if (one) {
        respond(reply::ok_pair(*one + 1, maildrop_->uid(*one)));
        return;
    }
    respond(reply::kUidlFollows);
    for (std::size_t i = 0; i < maildrop_->count(); ++i)
        if (!deleted_[i]) respond(std::to_string(i + 1) + " " + maildrop_->uid(i));
    respond(".");
}

}  // namespace pop3d::session
