// Failed-login throttling: rising delays per client address and the
// per-address budget (session side), and the shared table behind them.
#include "app/failure_table.hpp"
#include "fakes.hpp"
#include "session/session.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace pop3d;
using namespace pop3d::testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

class FakeThrottle final : public session::LoginThrottle {
public:
    unsigned failures(std::string_view address) override { return counts[std::string(address)]; }
    void record_failure(std::string_view address) override { ++counts[std::string(address)]; }
    bool begin_login(milliseconds max_wait) override {
        waits.push_back(max_wait);
        if (!slot_free) return false;
        ++held;
        return true;
    }
    void end_login() override { --held; }
    std::map<std::string, unsigned> counts;
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
        std::vector<std::string> lines;
        std::istringstream in(t.output);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) lines.push_back(line);
        return lines;
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

namespace {

class FailureTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pop3d-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = dir + "/auth-failures";
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::unique_ptr<app::FailureTable> open(seconds window = seconds(600)) {
        std::string error;
        auto t = app::FailureTable::open(path, window, &error);
        EXPECT_TRUE(t);
        EXPECT_EQ(error, "");
        return t;
    }
    std::string dir, path;
};

}  // namespace

TEST_F(FailureTableTest, CountsPerAddressAndSurvivesReopening) {
    auto t = open();
    EXPECT_EQ(t->failures("192.0.2.1"), 0u);
    t->record_failure("192.0.2.1");
    t->record_failure("192.0.2.1");
    t->record_failure("192.0.2.2");
    EXPECT_EQ(t->failures("192.0.2.1"), 2u);
    EXPECT_EQ(t->failures("::ffff:192.0.2.1"), 2u);  // the same host, v4-mapped
    EXPECT_EQ(t->failures("192.0.2.2"), 1u);
    t.reset();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(open()->failures("192.0.2.1"), 2u);  // another process (inetd) sees them
}

TEST_F(FailureTableTest, Ipv6CountsPerSlash64AndOddAddressesAreNotCounted) {
    auto t = open();
    t->record_failure("2001:db8:1:2::1");
    t->record_failure("2001:db8:1:2:ffff::7");
    EXPECT_EQ(t->failures("2001:db8:1:2::99"), 2u);
    EXPECT_EQ(t->failures("2001:db8:1:3::1"), 0u);
    for (const char* odd : {"", "unknown", "999.1.1.1", "::1%lo"}) {
        t->record_failure(odd);
        EXPECT_EQ(t->failures(odd), 0u) << odd;
    }
}

TEST_F(FailureTableTest, ForkedChildrenShareTheCounts) {
    auto t = open();
    const pid_t pid = ::fork();
    if (pid == 0) {
        t->record_failure("198.51.100.7");
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(t->failures("198.51.100.7"), 1u);
}

TEST_F(FailureTableTest, TheWindowRestartsTheCount) {
    auto t = open(seconds(1));
    t->record_failure("192.0.2.1");
    EXPECT_EQ(t->failures("192.0.2.1"), 1u);
    ::usleep(2100 * 1000);  // CLOCK_BOOTTIME counts whole seconds here
    EXPECT_EQ(t->failures("192.0.2.1"), 0u);
}

TEST_F(FailureTableTest, ManyAddressesStayBoundedAndRecentOnesAreKept) {
    auto t = open();
    for (int i = 0; i < 20000; ++i)
        t->record_failure("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                          std::to_string(i % 256));
    t->record_failure("203.0.113.5");
    EXPECT_EQ(t->failures("203.0.113.5"), 1u);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_LE(st.st_size, 200 * 1024);
}

TEST_F(FailureTableTest, AFileThatIsNotOursIsNotUsed) {
    std::ofstream(path) << "junk";
    ::chmod(path.c_str(), 0600);
    std::string error;
    auto t = app::FailureTable::open(path, seconds(60), &error);
    ASSERT_TRUE(t);  // memory instead
    EXPECT_NE(error.find("not a private regular file"), std::string::npos) << error;
    std::filesystem::remove(path);
    ASSERT_EQ(::symlink("/etc/passwd", path.c_str()), 0);
    error.clear();
    t = app::FailureTable::open(path, seconds(60), &error);
    ASSERT_TRUE(t);
    EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
    t->record_failure("192.0.2.1");
    EXPECT_EQ(t->failures("192.0.2.1"), 1u);
}
