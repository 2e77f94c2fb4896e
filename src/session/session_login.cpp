// The AUTHORIZATION state: USER/PASS, AUTH PLAIN, STLS, and the login
// itself (the budget, the uniform delay on failure, PAM, the maildrop).
#include "session/session.hpp"

#include "auth/never_served.hpp"
#include "auth/sasl_plain.hpp"
#include "auth/username.hpp"
#include "common/text.hpp"
#include "log/events.hpp"
#include "session/command.hpp"
#include "session/refusals.hpp"
#include "session/responses.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace pop3d::session {

void Session::refuse(std::string_view response, const log::Event& event, std::string_view user, std::string_view why) {
    if (++refusals_ <= kMaxRefusalLines) log::write(event, who(user), why);
    protocol_error(response);
}

void Session::cmd_user(std::string_view rest) {
    user_.clear();
    rest = text::trim_trailing_blanks(rest);
    if (!plaintext_allowed()) {
        refuse(reply::kNeedTls, log::event::login_refused, rest,
               " (USER before STLS: plaintext passwords need TLS here; see allow_plaintext_auth)");
        return;
    }
    if (rest.empty()) {
        protocol_error(reply::kBadArguments);
        return;
    }
    // The whole argument is the name: a space in it makes it invalid.
    if (!auth::valid_username(rest, settings_.max_username_length)) {
        refuse(reply::kBadUserName, log::event::login_refused, rest, " (invalid user name)");
        return;
    }
    user_ = rest;
    respond(reply::kUserAccepted);
}

void Session::cmd_pass(std::string_view rest) {
    if (user_.empty()) {
        protocol_error(reply::kUserFirst);
        return;
    }
    const std::string user = std::exchange(user_, {});  // PASS after a failed PASS needs a new USER
    try_login(user, rest);
}

bool Session::plaintext_allowed() const { return settings_.plaintext_auth || transport_.tls_active(); }

void Session::cmd_auth(std::string_view rest) {
    user_.clear();
    rest = text::trim_trailing_blanks(rest);
    if (rest.empty()) {  // the mechanisms, as Outlook asks with a bare AUTH
        respond(reply::kSaslList);
        if (plaintext_allowed()) respond("PLAIN");
        respond(".");
        return;
    }
    const std::size_t sp = rest.find(' ');
    const std::string_view mechanism = rest.substr(0, sp);
    if (!text::iequals(mechanism, "PLAIN")) {
        refuse(reply::kSaslUnknown, log::event::login_refused, {},
               " (unsupported SASL mechanism " + text::escape_log_field(mechanism, 32) + ")");
        return;
    }
    if (!plaintext_allowed()) {
        refuse(reply::kNeedTls, log::event::login_refused, {},
               " (AUTH PLAIN before STLS: plaintext passwords need TLS here; see allow_plaintext_auth)");
        return;
    }
    if (sp == std::string_view::npos) {  // no initial response: ask for it
        respond(reply::kSaslContinue);
        sasl_pending_ = true;
        return;
    }
    plain_login(rest.substr(sp + 1));
}

void Session::sasl_response(std::string_view line) {
    sasl_pending_ = false;
    if (line == "*") {
        respond(reply::kSaslCancelled);
        return;
    }
    plain_login(line);
}

void Session::plain_login(std::string_view response) {
    std::optional<std::string> decoded = auth::decode_base64_strict(response);
    if (!decoded) {
        refuse(reply::kSaslBadBase64, log::event::login_refused, {}, " (invalid base64 in AUTH PLAIN)");
        return;
    }
    struct Wipe {
        std::string& s;
        ~Wipe() { explicit_bzero(s.data(), s.size()); }
    } wipe{*decoded};
    std::optional<auth::PlainCredentials> c = auth::parse_plain(*decoded);
    if (!c) {
        refuse(reply::kSaslBadPlain, log::event::login_refused, {}, " (malformed AUTH PLAIN credentials)");
        return;
    }
    Wipe wipe_password{c->password};
    if (!auth::valid_username(c->authcid, settings_.max_username_length)) {
        refuse(reply::kBadUserName, log::event::login_refused, c->authcid, " (invalid user name)");
        return;
    }
    if (!c->authzid.empty() && c->authzid != c->authcid) {
        // No proxy authorization: act as someone else? Refused like a bad
        // password, and counted like one (PAM is not asked, but the answer
        // must not differ once the budget is spent).
        const auto started = clock_.now();
        ReservedGuess guess(throttle_, client_.address, settings_.auth_fail_budget);
        if (!guess.allowed()) {
            login_blocked(started, guess.before(), c->authcid);
            return;
        }
        login_failed(started, guess, c->authcid,
                     "authorization identity '" + text::escape_log_field(c->authzid) + "' differs",
                     refusal(auth::AuthStatus::failed));
        return;
    }
    try_login(c->authcid, c->password);
}

std::chrono::milliseconds Session::fail_delay(unsigned recent) const {
    // Doubles with each recent failure from the address, up to the maximum.
    using std::chrono::milliseconds;
    const milliseconds base = settings_.login_fail_delay;
    const milliseconds cap = std::max<milliseconds>(base, settings_.login_fail_delay_max);
    milliseconds d = base;
    for (unsigned i = 0; i < recent && d < cap; ++i) d *= 2;
    return std::min(d, cap);
}

void Session::login_failed(Clock::time_point started, ReservedGuess& guess, std::string_view user, std::string_view why,
                           Refusal refused) {
    // Counted before the wait: parallel guesses see it at once.
    if (refused.counts_against_address) guess.keep();
    // Every failure is answered at the same moment, whatever PAM did; the
    // wait blocks only this session.
    clock_.sleep_until(started + fail_delay(guess.before()));
    ++auth_failures_;
    log::write(log::event::login_failed, who(user), " (" + std::string(why) + ")");
    respond(refused.reply);
    if (auth_failures_ >= settings_.max_auth_failures) end(SessionEnd::auth_failures);
}

void Session::login_blocked(Clock::time_point started, unsigned recent, std::string_view user) {
    // Past the budget PAM is not even asked: no more guesses from here.
    clock_.sleep_until(started + fail_delay(recent));
    log::write(log::event::login_blocked, who(user),
               " (" + text::count(recent, "failed login") + " from this address within " +
                                              std::to_string(settings_.auth_fail_window.count()) + " s)");
    respond(reply::kAuthBlocked);
    end(SessionEnd::auth_failures);
}

bool Session::check_credentials(const std::string& user, std::string_view password, auth::AuthResult& result) {
    using std::chrono::milliseconds;
    const auto left = std::chrono::duration_cast<milliseconds>(login_deadline_ - clock_.now());
    if (throttle_ && !throttle_->begin_login(std::max(left, milliseconds(0)))) {
        // Not a failed login: nothing counts against the client.
        log::write(log::event::login_deferred, who(user),
                   " (every login slot stayed busy; see max_concurrent_logins)");
        respond(reply::kLoginsBusy);
        return false;
    }
    struct EndLogin {
        LoginThrottle* t;
        ~EndLogin() {
            if (t) t->end_login();
        }
    } end_login{throttle_};
    result = authenticator_.authenticate(user, password, client_);
    return true;  // the slot is free again before the maildrop is opened
}

void Session::try_login(const std::string& user, std::string_view password) {
    const auto started = clock_.now();
    // Counted before PAM and before the delay, in one step with the budget
    // check: parallel guesses from one address reach PAM at most budget times.
    ReservedGuess guess(throttle_, client_.address, settings_.auth_fail_budget);
    if (!guess.allowed()) {
        login_blocked(started, guess.before(), user);
        return;
    }
    auth::AuthResult result;
    if (!check_credentials(user, password, result)) return;  // the guess goes back
    if (result.status == auth::AuthStatus::ok) {
        // root, or a uid we cannot switch to: the same answer, at the same
        // moment, as a wrong password, so a right guess shows nothing.
        const std::string why = auth::never_served(result.account, settings_.running_as);
        if (why.empty()) {
            guess.give_back();
            login(result.account);
            return;
        }
        result.status = auth::AuthStatus::failed;
        result.detail = why;
    }
    login_failed(started, guess, user, result.detail, refusal(result.status));
}

void Session::cmd_stls(std::string_view rest) {
    if (const auto args = split_args(rest, 0); !args) {
        protocol_error(reply::kBadArguments);
        return;
    }
    if (transport_.tls_active()) {
        refuse(reply::kStlsActive, log::event::stls_refused, {}, " (TLS is already active)");
        return;
    }
    if (!transport_.tls_startable()) {
        refuse(reply::kStlsUnavailable, log::event::stls_refused, {},
               " (no TLS here: tls_cert and tls_key are not set)");
        return;
    }
    respond(reply::kStlsGo);
    if (!flush()) {
        end(SessionEnd::io_error);
        return;
    }
    // Whatever the client sent after STLS in plaintext is dropped unread:
    // nothing pipelined with STLS may run inside TLS (CVE-2011-0411).
    reader_.discard_buffered();
    user_.clear();
    if (!transport_.start_tls()) {  // the transport logs why
        end(SessionEnd::io_error);
        return;
    }
}

void Session::login(const auth::Account& account) {
    OpenResult opened = opener_.open(account);
    if (!opened.result.ok()) {
        const mailbox::Status s = opened.result.status;
        const log::Event& what = s == mailbox::Status::in_use      ? log::event::maildrop_in_use
                                 : s == mailbox::Status::too_soon  ? log::event::login_delay
                                 : s == mailbox::Status::perm_fail ? log::event::cannot_open_maildrop
                                                                   : log::event::maildrop_unavailable;
        log::write(what, who(account.name), ": " + opened.result.detail);
        respond(refusal(MaildropStep::open, s).reply);
        end(SessionEnd::login_refused);
        return;
    }
    maildrop_ = std::move(opened.maildrop);
    deleted_.assign(maildrop_->count(), false);
    if (settings_.expire_days == 0u) retrieved_set_.assign(maildrop_->count(), false);
    state_ = State::transaction;
    transport_.limit_send_time(std::chrono::milliseconds::max());  // from now on the send timeout alone
    account_name_ = account.name;
    if (observer_) observer_->logged_in(account.name);
    const auto [n, octets] = totals();
    respond(reply::maildrop_has(n, octets));
    log::write(log::event::login, who(account.name), " msgs=" + std::to_string(n) +
                                      " size=" + std::to_string(octets));
}

}  // namespace pop3d::session
