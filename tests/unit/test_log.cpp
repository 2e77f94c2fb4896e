// Log lines: the event's words first, then the caller's; inside a
// ConnectionScope the connection's fields and session id at the end.
#include "log/events.hpp"

#include "log_capture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

using namespace pop3d;

namespace {

const log::Connection kClient{"192.0.2.7", {}, "abcd2345"};
const log::Connection kProxied{"192.0.2.8", "10.0.0.1", "wxyz6789"};

TEST(LogFormat, EventWordsThenTheRest) {
    EXPECT_EQ(log::format(log::event::login_failed, "user=alice rip=192.0.2.7 (bad)"),
              "login failed user=alice rip=192.0.2.7 (bad)");
    EXPECT_EQ(log::format(log::event::stopped, ""), "stopped");
    EXPECT_EQ(log::format(log::event::config_error, "pop3d.conf:3: unknown key 'x'"),
              "configuration error: pop3d.conf:3: unknown key 'x'");
}

TEST(LogFormat, ScopeAddsTheSessionAndTheClientWhereTheLineDoesNotNameIt) {
    const log::ConnectionScope scope(kClient);
    // fail2ban reads "login failed user=NAME rip=ADDR (": nothing may come between.
    EXPECT_EQ(log::format(log::event::login_failed, "user=alice rip=192.0.2.7 (bad)"),
              "login failed user=alice rip=192.0.2.7 (bad) session=abcd2345");
    EXPECT_EQ(log::format(log::event::expunged, "2 of 3 messages from /var/mail/alice"),
              "expunged 2 of 3 messages from /var/mail/alice rip=192.0.2.7 session=abcd2345");
}

TEST(LogFormat, ScopesNestAndBelongToTheirThread) {
    {
        const log::ConnectionScope outer(kClient);
        {
            const log::ConnectionScope inner(kProxied);
            EXPECT_EQ(log::format(log::event::stale_lock_removed, "/var/mail/bob.lock (old)"),
                      "removed stale lock /var/mail/bob.lock (old) rip=192.0.2.8 proxy=10.0.0.1 session=wxyz6789");
            std::string other;
            std::thread([&] { other = log::format(log::event::expunged, "x"); }).join();
            EXPECT_EQ(other, "expunged x");  // another thread, another connection (or none)
        }
        EXPECT_EQ(log::format(log::event::expunged, "x"), "expunged x rip=192.0.2.7 session=abcd2345");
    }
    EXPECT_EQ(log::format(log::event::expunged, "x"), "expunged x");
}

TEST(LogFormat, UnknownAddress) {
    const log::ConnectionScope scope(log::Connection{{}, "10.0.0.1", "s"});
    EXPECT_EQ(log::format(log::event::maildrop_too_large, "x"),
              "maildrop too large: x rip=unknown proxy=10.0.0.1 session=s");
}

// The user and address a client chose are escaped by the log layer itself,
// whatever the call site passed: one token each, no forged fields.
TEST(LogClientFields, UserAndAddressAreEscapedHere) {
    EXPECT_EQ(log::format(log::event::login_failed, log::Client{"alice", "192.0.2.7"}, " (bad)"),
              "login failed user=alice rip=192.0.2.7 (bad)");
    EXPECT_EQ(log::format(log::event::login_failed, log::Client{"x rip=10.9.9.9\r\n\x01=", "192.0.2.7"}, " (bad)"),
              "login failed user=x\\x20rip=10.9.9.9\\x0d\\x0a\\x01= rip=192.0.2.7 (bad)");
    EXPECT_EQ(log::format(log::event::login_refused, log::Client{{}, {}}, " (why)"), "login refused rip=unknown (why)");
    EXPECT_EQ(log::format(log::event::login_refused, log::Client{"a b", "1 2"}, ""),
              "login refused user=a\\x20b rip=1\\x202");
}

TEST(LogClientFields, RipUnknownIsSpelledOnce) {
    EXPECT_EQ(log::rip_field(""), "rip=unknown");
    EXPECT_EQ(log::rip_field("2001:db8::1"), "rip=2001:db8::1");
    EXPECT_EQ(log::Connection{}.text(), "rip=unknown");
}

}  // namespace

// Lines are written whole, stamped and ended with a newline, whether they
// fit the writer's stack buffer or not.
TEST(LogFile, ShortAndLongLinesAreWrittenWhole) {
    pop3d::testing::LogCapture capture;
    const std::string long_rest(3000, 'x');
    {
        const log::ConnectionScope scope({"192.0.2.7", {}, "abcd2345"});
        log::write(log::event::expunged, "short");
        log::write(log::event::expunged, long_rest);
    }
    const std::string text = capture.text();
    EXPECT_NE(text.find(": info: expunged short rip=192.0.2.7 session=abcd2345\n"), std::string::npos) << text;
    EXPECT_NE(text.find(": info: expunged " + long_rest + " rip=192.0.2.7 session=abcd2345\n"), std::string::npos);
    EXPECT_NE(text.find(" pop3d[" + std::to_string(::getpid()) + "]: "), std::string::npos);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}
