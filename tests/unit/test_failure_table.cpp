// The table of failed logins per address that every session of the host
// shares (app/failure_table): counting, reservations, the window, bounds,
// forked children, and the budget it gives parallel sessions.
#include "app/failure_table.hpp"
#include "fakes.hpp"
#include "session/session.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace pop3d;
using namespace pop3d::testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

class FailureTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(tmp.ok());
        dir = tmp.path();
        path = dir + "/auth-failures";
    }
    std::unique_ptr<app::FailureTable> open(seconds window = seconds(600)) {
        std::string error;
        auto t = app::FailureTable::open(path, window, &error);
        EXPECT_TRUE(t);
        EXPECT_EQ(error, "");
        return t;
    }
    TempDir tmp;
    std::string dir, path;
};

}  // namespace

TEST_F(FailureTableTest, CountsPerAddressAndSurvivesReopening) {
    auto t = open();
    EXPECT_EQ(t->failures("192.0.2.1"), 0u);
    t->reserve_guess("192.0.2.1", 0);
    t->reserve_guess("192.0.2.1", 0);
    t->reserve_guess("192.0.2.2", 0);
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
    t->reserve_guess("2001:db8:1:2::1", 0);
    t->reserve_guess("2001:db8:1:2:ffff::7", 0);
    EXPECT_EQ(t->failures("2001:db8:1:2::99"), 2u);
    EXPECT_EQ(t->failures("2001:db8:1:3::1"), 0u);
    for (const char* odd : {"", "unknown", "999.1.1.1", "1.2.3.4%lo"}) {
        EXPECT_TRUE(t->reserve_guess(odd, 1).allowed) << odd;
        EXPECT_TRUE(t->reserve_guess(odd, 1).allowed) << odd;
        EXPECT_EQ(t->failures(odd), 0u) << odd;
    }
}

TEST_F(FailureTableTest, ScopedLinkLocalAddressesCountLikeAnyOther) {
    // inet_pton refuses "%lo": such clients once had no budget at all.
    auto t = open();
    EXPECT_TRUE(t->reserve_guess("fe80::2%lo", 2).allowed);
    EXPECT_TRUE(t->reserve_guess("fe80::2%eth0", 2).allowed);
    EXPECT_EQ(t->failures("fe80::2"), 2u);
    EXPECT_FALSE(t->reserve_guess("fe80::3%lo", 2).allowed);  // fe80::/64 is one budget
    EXPECT_EQ(t->failures("::1%lo"), 0u);
    t->reserve_guess("::1%lo", 0);
    EXPECT_EQ(t->failures("::1"), 1u);
}

TEST_F(FailureTableTest, AReservationChecksAndCountsInOneStep) {
    auto t = open();
    using Guess = session::LoginThrottle::Guess;
    auto same = [](Guess a, Guess b) { return a.allowed == b.allowed && a.before == b.before; };
    EXPECT_TRUE(same(t->reserve_guess("192.0.2.1", 2), Guess{true, 0}));
    EXPECT_TRUE(same(t->reserve_guess("192.0.2.1", 2), Guess{true, 1}));
    EXPECT_TRUE(same(t->reserve_guess("192.0.2.1", 2), Guess{false, 2}));  // refused: not counted
    EXPECT_EQ(t->failures("192.0.2.1"), 2u);
    t->return_guess("192.0.2.1");
    EXPECT_EQ(t->failures("192.0.2.1"), 1u);
    EXPECT_TRUE(same(t->reserve_guess("192.0.2.1", 2), Guess{true, 1}));
    // Budget 0: no limit, but still counted (the delay rises with it).
    for (unsigned i = 2; i < 10; ++i) EXPECT_TRUE(same(t->reserve_guess("192.0.2.1", 0), Guess{true, i}));
    t->return_guess("203.0.113.1");  // never seen: nothing to give back
    EXPECT_EQ(t->failures("203.0.113.1"), 0u);
}

TEST_F(FailureTableTest, ParallelReservationsStopAtTheBudget) {
    auto t = open();
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 32; ++i)
        threads.emplace_back([&] {
            for (int j = 0; j < 100; ++j)
                if (t->reserve_guess("2001:db8::" + std::to_string(j % 7 + 1), 5).allowed) ++allowed;
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(allowed.load(), 5);  // one /64
    EXPECT_EQ(t->failures("2001:db8::"), 5u);
}

TEST_F(FailureTableTest, ForkedChildrenShareTheCounts) {
    auto t = open();
    const pid_t pid = ::fork();
    if (pid == 0) {
        t->reserve_guess("198.51.100.7", 0);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(t->failures("198.51.100.7"), 1u);
}

TEST_F(FailureTableTest, TheWindowRestartsTheCount) {
    auto t = open(seconds(1));
    t->reserve_guess("192.0.2.1", 0);
    EXPECT_EQ(t->failures("192.0.2.1"), 1u);
    ::usleep(2100 * 1000);  // CLOCK_BOOTTIME counts whole seconds here
    EXPECT_EQ(t->failures("192.0.2.1"), 0u);
}

TEST_F(FailureTableTest, ManyAddressesStayBoundedAndRecentOnesAreKept) {
    auto t = open();
    for (int i = 0; i < 20000; ++i)
        t->reserve_guess("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                          std::to_string(i % 256), 0);
    t->reserve_guess("203.0.113.5", 0);
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
    t->reserve_guess("192.0.2.1", 0);
    EXPECT_EQ(t->failures("192.0.2.1"), 1u);
}

namespace {

// PAM that takes a while and always says no; several sessions call it at once.
class SlowAuthenticator final : public auth::Authenticator {
public:
    std::atomic<int> calls{0};
    auth::AuthResult authenticate(std::string_view, std::string_view, const auth::ClientInfo&) override {
        ++calls;
        std::this_thread::sleep_for(milliseconds(100));
        auth::AuthResult r;
        r.detail = "bad password";
        return r;
    }
};

}  // namespace

TEST_F(FailureTableTest, ParallelGuessesFromOneSlash64ReachPamAtMostBudgetTimes) {
    auto table = open();
    SlowAuthenticator pam;
    session::SessionSettings settings;
    settings.auth_fail_budget = 3;
    std::atomic<int> failed{0}, blocked{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 30; ++i)
        threads.emplace_back([&, i] {
            ScriptTransport t({"USER alice\r\nPASS guess" + std::to_string(i) + "\r\n"});
            FakeOpener opener({});
            FakeClock clock;
            const auth::ClientInfo client{"2001:db8:1:2::" + std::to_string(i + 1)};  // one /64
            session::Session s(t, pam, opener, clock, settings, client, table.get());
            s.run();
            if (t.output.find("-ERR [AUTH] authentication failed") != std::string::npos) ++failed;
            if (t.output.find("too many failed logins") != std::string::npos) ++blocked;
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(pam.calls.load(), 3);
    EXPECT_EQ(failed.load(), 3);
    EXPECT_EQ(blocked.load(), 27);
    EXPECT_EQ(table->failures("2001:db8:1:2::"), 3u);
}
