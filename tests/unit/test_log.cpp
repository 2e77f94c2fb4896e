// Log lines: the event's words first, then the caller's; inside a
// ConnectionScope the connection's fields and session id at the end.
// Session ids: short, and distinct for distinct (pid, count).
#include "log/events.hpp"
#include "log/session_id.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>
#include <unordered_set>

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

TEST(SessionId, EightCharactersThatReadWell) {
    const std::regex shape("[0-9a-hjkmnp-tv-z]{8}");
    for (int i = 0; i < 1000; ++i) {
        const std::string id = log::new_session_id();
        EXPECT_TRUE(std::regex_match(id, shape)) << id;
    }
}

TEST(SessionId, DistinctPidAndCountGiveDistinctIds) {
    std::set<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::uint32_t pid : {1u, 2u, 1000u, 4194303u, 31337u})
        for (std::uint32_t count = 0; count < 20000; ++count) pairs.emplace(pid, count);
    for (std::uint32_t pid = 3; pid < 100000; ++pid) pairs.emplace(pid, 0);
    std::set<std::string> ids;
    for (const auto& [pid, count] : pairs) ids.insert(log::session_id_for(pid, count, 0x1234));
    EXPECT_EQ(ids.size(), pairs.size());
}

TEST(SessionId, NeighboursDoNotLookAlikeAndTheKeyChangesThem) {
    const std::string a = log::session_id_for(4242, 7, 1), b = log::session_id_for(4242, 8, 1);
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    EXPECT_LT(same, 5u) << a << " " << b;
    EXPECT_NE(log::session_id_for(4242, 7, 1), log::session_id_for(4242, 7, 2));
}

// What one process draws through new_session_id (its pid, counts 0, 1, 2,
// ...), with explicit counts: no test depends on the process-wide counter.
TEST(SessionId, OneProcessRepeatsNoIdUntilItsCountWraps) {
    constexpr std::uint32_t kWrap = 1u << 18;
    std::unordered_set<std::string> ids;
    for (std::uint32_t count = 0; count < kWrap; ++count) ids.insert(log::session_id_for(31337, count, 0xfeed));
    EXPECT_EQ(ids.size(), kWrap);
    EXPECT_EQ(log::session_id_for(31337, kWrap, 0xfeed), log::session_id_for(31337, 0, 0xfeed));
}

}  // namespace
