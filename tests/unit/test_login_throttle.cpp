// Failed-login throttling: rising delays per client address and the
// per-address budget, as the session sees them (session/login_throttle).
#include "fakes.hpp"
#include "session/session.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace pop3d;
using namespace pop3d::testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

class FakeThrottle final : public session::LoginThrottle {
public:
    Guess reserve_guess(std::string_view address, unsigned budget) override {
        unsigned& n = counts[std::string(address)];
        if (budget > 0 && n >= budget) return {false, n};
        return {true, n++};
    }
    void return_guess(std::string_view address) override {
        --counts[std::string(address)];
        ++returned;
    }
    bool begin_login(milliseconds max_wait) override {
        waits.push_back(max_wait);
        if (!slot_free) return false;
        ++held;
        return true;
    }
    void end_login() override { --held; }
    std::map<std::string, unsigned> counts;
    int returned = 0;
    bool slot_free = true;
    int held = 0;
    std::vector<milliseconds> waits;
};

class ThrottleTest : public ::testing::Test {
protected:
    ThrottleTest() : opener({"Subject: x\r\n\r\nx\r\n"}) {
        auth.passwords = {{"alice", "secret"}};
        settings.login_fail_delay = seconds(2);
        settings.login_fail_delay_max = seconds(30);
        settings.max_auth_failures = 100;
    }
    std::vector<std::string> run(const std::string& input, const std::string& address = "192.0.2.1") {
        ScriptTransport t({input});
        session::Session s(t, auth, opener, clock, settings, auth::ClientInfo{address}, &throttle);
        end = s.run();
        return reply_lines(t.output);
    }
    FakeAuthenticator auth;
    FakeOpener opener;
    FakeClock clock;
    FakeThrottle throttle;
    session::SessionSettings settings;
    session::SessionEnd end{};
};

}  // namespace

TEST_F(ThrottleTest, DelayDoublesWithRecentFailuresFromTheAddressUpToTheMaximum) {
    run("USER alice\r\nPASS a\r\nPASS b\r\nUSER alice\r\nPASS c\r\nUSER x\r\nPASS d\r\nUSER alice\r\nPASS e\r\n"
        "USER alice\r\nPASS f\r\n");
    std::vector<milliseconds> slept;
    for (auto d : clock.slept_) slept.push_back(std::chrono::duration_cast<milliseconds>(d));
    // PASS b came without USER (no login attempt): five attempts, unknown user included.
    EXPECT_EQ(slept, (std::vector<milliseconds>{seconds(2), seconds(4), seconds(8), seconds(16), seconds(30)}));
    EXPECT_EQ(throttle.counts["192.0.2.1"], 5u);
    // Another address starts from the base delay.
    clock.slept_.clear();
    run("USER alice\r\nPASS a\r\n", "192.0.2.2");
    EXPECT_EQ(clock.slept_, (std::vector<FakeClock::duration>{seconds(2)}));
}

TEST_F(ThrottleTest, SuccessIsNotDelayedAndNotCounted) {
    throttle.counts["192.0.2.1"] = 3;
    const auto l = run("USER alice\r\nPASS secret\r\nQUIT\r\n");
    EXPECT_TRUE(l[1].rfind("+OK maildrop", 0) == 0);
    EXPECT_TRUE(clock.slept_.empty());
    EXPECT_EQ(throttle.counts["192.0.2.1"], 3u);
}

TEST_F(ThrottleTest, PastTheBudgetPamIsNotAskedAndTheSessionEnds) {
    settings.auth_fail_budget = 3;
    throttle.counts["192.0.2.1"] = 3;
    auto l = run("USER alice\r\nPASS secret\r\nUSER alice\r\n");
    EXPECT_EQ(l[1], "-ERR [SYS/TEMP] Service temporarily unavailable: too many failed logins from your address\r");
    EXPECT_EQ(l.size(), 2u);
    EXPECT_TRUE(auth.calls.empty());
    EXPECT_EQ(end, session::SessionEnd::auth_failures);
    EXPECT_EQ(clock.slept_.size(), 1u);  // answered after the delay all the same
    // AUTH PLAIN is held to the same budget; another address is not.
    l = run("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    EXPECT_EQ(l[0], "-ERR [SYS/TEMP] Service temporarily unavailable: too many failed logins from your address\r");
    l = run("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "192.0.2.9");
    EXPECT_TRUE(l[0].rfind("+OK maildrop", 0) == 0);
}

TEST_F(ThrottleTest, PamOutagesDoNotCountAgainstTheAddress) {
    auth.unavailable = true;
    const auto l = run("USER alice\r\nPASS secret\r\n");
    EXPECT_EQ(l[1], "-ERR [SYS/TEMP] Service temporarily unavailable, try later\r");
    EXPECT_EQ(throttle.counts["192.0.2.1"], 0u);
}

TEST_F(ThrottleTest, PamIsAskedInsideALoginSlotWaitedForUntilTheLoginTimeout) {
    settings.login_timeout = seconds(120);
    auto l = run("USER alice\r\nPASS wrong\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r\n");
    EXPECT_EQ(l[1], "-ERR [AUTH] authentication failed\r");
    EXPECT_TRUE(l[2].rfind("+OK maildrop", 0) == 0);
    EXPECT_EQ(throttle.waits.size(), 2u);
    EXPECT_EQ(throttle.waits[0], seconds(120));  // the fake clock stands still
    EXPECT_EQ(throttle.held, 0);                 // every slot left again
    EXPECT_EQ(auth.calls.size(), 2u);
}

TEST_F(ThrottleTest, NoSlotBeforeTheLoginTimeoutIsATemporaryErrorNotAFailure) {
    throttle.slot_free = false;
    const auto l = run("USER alice\r\nPASS secret\r\nPASS secret\r\n");
    EXPECT_EQ(l[1], "-ERR [SYS/TEMP] Service temporarily unavailable: too many logins in progress, try later\r");
    EXPECT_TRUE(auth.calls.empty());
    EXPECT_EQ(throttle.counts["192.0.2.1"], 0u);
    EXPECT_TRUE(clock.slept_.empty());
    EXPECT_EQ(throttle.held, 0);
    // The session goes on: the client may try again.
    throttle.slot_free = true;
    EXPECT_TRUE(run("USER alice\r\nPASS secret\r\n")[1].rfind("+OK maildrop", 0) == 0);
}

TEST_F(ThrottleTest, NoBudgetMeansPamIsAlwaysAsked) {
    settings.auth_fail_budget = 0;
    throttle.counts["192.0.2.1"] = 1000;
    EXPECT_TRUE(run("USER alice\r\nPASS secret\r\n")[1].rfind("+OK maildrop", 0) == 0);
    EXPECT_EQ(clock.slept_.size(), 0u);
}

TEST_F(ThrottleTest, AGuessIsCountedBeforePamAnswersAndKeptWhenItFails) {
    settings.auth_fail_budget = 5;
    std::vector<unsigned> seen;
    auth.during = [&] { seen.push_back(throttle.counts["192.0.2.1"]); };
    run("USER alice\r\nPASS wrong\r\nUSER alice\r\nPASS secret\r\n");
    EXPECT_EQ(seen, (std::vector<unsigned>{1, 2}));  // each already counted while PAM runs
    EXPECT_EQ(throttle.counts["192.0.2.1"], 1u);     // the success was given back
    EXPECT_EQ(throttle.returned, 1);
}

TEST_F(ThrottleTest, AnAuthorizationIdentityThatDiffersIsAGuessLikeAnyOther) {
    settings.auth_fail_budget = 2;
    const std::string as_bob = "AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==\r\n";  // bob\0alice\0secret
    auto l = run(as_bob + as_bob + as_bob);
    EXPECT_EQ(l[0], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(l[1], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(l[2], "-ERR [SYS/TEMP] Service temporarily unavailable: too many failed logins from your address\r");
    EXPECT_EQ(throttle.counts["192.0.2.1"], 2u);
    EXPECT_TRUE(auth.calls.empty());
    EXPECT_EQ(clock.slept_, (std::vector<FakeClock::duration>{seconds(2), seconds(4), seconds(8)}));
}

TEST_F(ThrottleTest, OnlyFailedCredentialsKeepTheirGuess) {
    settings.auth_fail_budget = 1;
    auth.unavailable = true;  // PAM down: answered, not counted
    run("USER alice\r\nPASS secret\r\n");
    throttle.slot_free = false;  // no login slot: not counted
    auth.unavailable = false;
    run("USER alice\r\nPASS secret\r\n");
    EXPECT_EQ(throttle.counts["192.0.2.1"], 0u);
    EXPECT_EQ(throttle.returned, 2);
    throttle.slot_free = true;
    EXPECT_TRUE(run("USER alice\r\nPASS secret\r\n")[1].rfind("+OK maildrop", 0) == 0);
}

