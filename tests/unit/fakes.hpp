// Test doubles for the session engine: scripted transport, fake clock,
// table-driven authenticator, in-memory maildrop.
#pragma once

#include "auth/authenticator.hpp"
#include "common/clock.hpp"
#include "mailbox/maildrop.hpp"
#include "mailbox/message_encoder.hpp"
#include "session/maildrop_opener.hpp"
#include "session/transport.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace pop3d::testing {

class FakeClock final : public Clock {
public:
    time_point now() override { return t_; }
    void sleep_until(time_point t) override {
        slept_.push_back(t - t_);
        if (t > t_) t_ = t;
    }
    void advance(duration d) { t_ += d; }
    std::vector<duration> slept_;

private:
    time_point t_{};
};

// Hands out the input in the given pieces, one piece per read() (a piece
// larger than the buffer is split). When the script runs out, reports
// `at_end` (eof by default).
class ScriptTransport final : public session::Transport {
public:
    explicit ScriptTransport(std::vector<std::string> pieces, session::ReadStatus at_end = session::ReadStatus::eof)
        : pieces_(pieces.begin(), pieces.end()), at_end_(at_end) {}
    session::ReadResult read(char* buf, std::size_t len, std::chrono::milliseconds timeout) override {
        timeouts.push_back(timeout);
        if (pieces_.empty()) return {at_end_};
        std::string& p = pieces_.front();
        const std::size_t n = std::min(len, p.size());
        std::memcpy(buf, p.data(), n);
        p.erase(0, n);
        if (p.empty()) pieces_.pop_front();
        return {session::ReadStatus::data, n};
    }
    bool readable_within(std::chrono::milliseconds wait) override {
        grace_waits.push_back(wait);
        return client_quick;
    }
    void idle_wait(std::chrono::milliseconds timeout) override {
        idle_waits.push_back(timeout);
        if (during_idle_wait) during_idle_wait();
    }
    bool write(const char* data, std::size_t len) override {
        ++writes;
        // A client gone, or one that never reads (the send timed out).
        if (fail_writes || (good_writes >= 0 && writes > good_writes)) return false;
        output.append(data, len);
        return true;
    }
    void limit_send_time(std::chrono::milliseconds most) override { send_limits.push_back(most); }
    bool stopping() const override { return stop_after_reads >= 0 && timeouts.size() >= std::size_t(stop_after_reads); }
    bool kicked() const override { return stop_is_kick; }
    bool tls_active() const override { return tls_on; }
    bool tls_startable() const override { return tls_capable && !tls_on; }
    bool start_tls() override {
        output += "<TLS>";
        tls_on = tls_handshake_ok;
        return tls_handshake_ok;
    }

    std::string output;
    int writes = 0;
    bool fail_writes = false;
    int good_writes = -1;  // >= 0: the writes after this many fail
    bool tls_capable = false;
    bool tls_on = false;
    bool tls_handshake_ok = true;
    int stop_after_reads = -1;  // >= 0: a shutdown is requested once this many reads were made
    bool stop_is_kick = false;  // the stop is pop3d kick's, not a shutdown
    std::vector<std::chrono::milliseconds> timeouts;
    std::vector<std::chrono::milliseconds> send_limits;  // limit_send_time, in order
    bool client_quick = false;  // readable_within: the client is back at once
    std::vector<std::chrono::milliseconds> grace_waits;
    std::vector<std::chrono::milliseconds> idle_waits;  // idle_wait, in order
    std::function<void()> during_idle_wait;            // runs inside each idle_wait

private:
    std::deque<std::string> pieces_;
    session::ReadStatus at_end_;
};

class FakeAuthenticator final : public auth::Authenticator {
public:
    std::map<std::string, std::string> passwords;  // user -> password
    std::map<std::string, uid_t> uids;             // user -> uid (5001 when not given)
    bool unavailable = false;
    std::vector<std::pair<std::string, std::string>> calls;
    std::function<void()> during;  // runs inside each call, as PAM would
    auth::AuthResult authenticate(std::string_view user, std::string_view password,
                                  const auth::ClientInfo&) override {
        calls.emplace_back(user, password);
        if (during) during();
        auth::AuthResult r;
        if (unavailable) {
            r.status = auth::AuthStatus::unavailable;
            return r;
        }
        const auto it = passwords.find(std::string(user));
        if (it == passwords.end() || it->second != password) {
            r.status = auth::AuthStatus::failed;
            r.detail = it == passwords.end() ? "unknown user" : "bad password";
            return r;
        }
        r.status = auth::AuthStatus::ok;
        r.account.name = std::string(user);
        const auto uid = uids.find(r.account.name);
        r.account.uid = uid == uids.end() ? 5001 : uid->second;
        r.account.gid = r.account.uid;
        r.account.home = "/home/" + r.account.name;
        return r;
    }
};

// What a MemoryMaildrop did; outlives the maildrop (the session destroys it).
struct MaildropStats {
    int uid_loads = 0;
    int buffer_releases = 0;
    int expunge_calls = 0;
    std::vector<bool> expunged;
};

// Messages given in canonical form (CRLF line ends).
class MemoryMaildrop final : public mailbox::Maildrop {
public:
    explicit MemoryMaildrop(std::vector<std::string> messages, MaildropStats* stats = nullptr)
        : messages_(std::move(messages)), stats_(stats ? stats : &own_stats_) {}
    std::size_t count() const override { return messages_.size(); }
    std::uint64_t size(std::size_t i) const override { return messages_[i].size(); }
    mailbox::Result load_uids() override {
        ++stats_->uid_loads;
        if (fail_uids) return {mailbox::Status::temp_fail, "test"};
        return {};
    }
    std::string uid(std::size_t i) const override { return "uid-" + std::to_string(i + 1); }
    mailbox::Result check(std::size_t) override {
        if (fail_check) return {mailbox::Status::temp_fail, "test"};
        return {};
    }
    mailbox::Result send(std::size_t i, std::optional<std::uint64_t> body_lines, mailbox::ByteSink& out) override {
        mailbox::MessageEncoder enc(out, false, true, body_lines);
        const std::string& m = messages_[i];
        if (fail_send_after >= 0) {
            enc.feed(m.data(), std::min<std::size_t>(m.size(), static_cast<std::size_t>(fail_send_after)));
            return {mailbox::Status::temp_fail, "test"};
        }
        if (!enc.feed(m.data(), m.size()) || !enc.finish()) return {mailbox::Status::temp_fail, "sink"};
        return {};
    }
    void release_buffers() override { ++stats_->buffer_releases; }
    mailbox::Result writable() const override { return writable_result; }
    mailbox::Result expunge(const std::vector<bool>& deleted) override {
        stats_->expunged = deleted;
        ++stats_->expunge_calls;
        return expunge_result;
    }

    std::vector<std::string> messages_;
    bool fail_uids = false;
    bool fail_check = false;
    int fail_send_after = -1;
    mailbox::Result expunge_result;
    mailbox::Result writable_result;

private:
    MaildropStats own_stats_;
    MaildropStats* stats_;
};

// Opens a MemoryMaildrop; `stats` tells what the session did with it.
class FakeOpener final : public session::MaildropOpener {
public:
    explicit FakeOpener(std::vector<std::string> messages) : messages_(std::move(messages)) {}
    session::OpenResult open(const auth::Account& account) override {
        opened_for = account.name;
        session::OpenResult r;
        r.result = result;
        if (!result.ok()) return r;
        stats = MaildropStats{};
        ++opens;
        auto md = std::make_unique<MemoryMaildrop>(messages_, &stats);
        if (tweak) tweak(*md);
        r.maildrop = std::move(md);
        return r;
    }
    mailbox::Result result;
    std::function<void(MemoryMaildrop&)> tweak;  // e.g. make the next maildrop fail
    MaildropStats stats;
    int opens = 0;
    std::string opened_for;

private:
    std::vector<std::string> messages_;
};

// The lines a session wrote, greeting left out (each keeps its CR).
inline std::vector<std::string> reply_lines(const std::string& output) {
    std::vector<std::string> lines;
    std::istringstream in(output);
    std::string line;
    std::getline(in, line);  // greeting
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

}  // namespace pop3d::testing
