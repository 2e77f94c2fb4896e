// The host-wide limit on logins checked at once: slots shared by threads,
// forked children and separate openers of the file, taken back from dead
// processes.
#include "app/login_gate.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace pop3d;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

class LoginGateTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(tmp.ok());
        dir = tmp.path();
        path = dir + "/logins";
    }
    std::unique_ptr<app::LoginGate> open(unsigned limit) {
        std::string error;
        auto g = app::LoginGate::open(path, limit, &error);
        EXPECT_TRUE(g);
        EXPECT_EQ(error, "");
        return g;
    }
    pop3d::testing::TempDir tmp;
    std::string dir, path;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

TEST_F(LoginGateTest, AtMostTheLimitThenWaitsAndGivesUpAtTheDeadline) {
    auto g = open(2);
    EXPECT_TRUE(g->enter(milliseconds(0)));
    EXPECT_TRUE(g->enter(milliseconds(0)));
    EXPECT_EQ(g->in_progress(), 2u);
    const auto t = Clock::now();
    EXPECT_FALSE(g->enter(milliseconds(300)));
    EXPECT_GE(seconds_since(t), 0.29);
    EXPECT_LT(seconds_since(t), 1.5);
    g->leave();
    EXPECT_TRUE(g->enter(milliseconds(0)));
    g->leave();
    g->leave();
    EXPECT_EQ(g->in_progress(), 0u);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(LoginGateTest, AWaiterGetsTheSlotAsSoonAsItIsLeft) {
    auto g = open(1);
    ASSERT_TRUE(g->enter(milliseconds(0)));
    std::thread leaver([&] {
        std::this_thread::sleep_for(milliseconds(200));
        g->leave();
    });
    const auto t = Clock::now();
    EXPECT_TRUE(g->enter(milliseconds(5000)));
    EXPECT_LT(seconds_since(t), 0.9);  // woken, not found at the next look a second later
    leaver.join();
    g->leave();
}

TEST_F(LoginGateTest, ARaisedLimitAppliesAtOnce) {
    auto g = open(1);
    ASSERT_TRUE(g->enter(milliseconds(0)));
    EXPECT_FALSE(g->enter(milliseconds(0)));
    g->set_limit(2);
    EXPECT_TRUE(g->enter(milliseconds(0)));
    g->set_limit(1);
    g->leave();
    EXPECT_FALSE(g->enter(milliseconds(0)));  // one still held, and the limit is one again
    g->leave();
    EXPECT_EQ(g->in_progress(), 0u);
}

TEST_F(LoginGateTest, OtherProcessesShareTheSlots) {
    auto g = open(1);
    int to_child[2], to_parent[2];
    ASSERT_EQ(::pipe(to_child), 0);
    ASSERT_EQ(::pipe(to_parent), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {  // an inetd process: opens the file itself
        std::string error;
        auto mine = app::LoginGate::open(path, 1, &error);
        char c = mine && mine->enter(milliseconds(0)) ? 'y' : 'n';
        if (::write(to_parent[1], &c, 1) != 1 || ::read(to_child[0], &c, 1) != 1) ::_exit(1);
        mine->leave();
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
    EXPECT_EQ(c, 'y');
    EXPECT_FALSE(g->enter(milliseconds(0)));  // the child holds the only slot
    std::thread release([&] {
        std::this_thread::sleep_for(milliseconds(200));
        EXPECT_EQ(::write(to_child[1], "x", 1), 1);
    });
    const auto t = Clock::now();
    EXPECT_TRUE(g->enter(milliseconds(5000)));  // woken across processes
    EXPECT_LT(seconds_since(t), 0.9);
    release.join();
    g->leave();
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(status, 0);
    for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

TEST_F(LoginGateTest, TheSlotOfAKilledProcessIsTakenBack) {
    auto g = open(1);
    const pid_t pid = ::fork();
    if (pid == 0) {  // a forked child, killed in the middle of PAM
        g->enter(milliseconds(0));
        ::pause();
        ::_exit(0);
    }
    for (int i = 0; i < 200 && g->in_progress() == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
    ASSERT_EQ(g->in_progress(), 1u);
    EXPECT_FALSE(g->enter(milliseconds(0)));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    const auto t = Clock::now();
    EXPECT_TRUE(g->enter(milliseconds(5000)));
    EXPECT_LT(seconds_since(t), 1.5);  // found at the next look
    g->leave();
}

TEST_F(LoginGateTest, SlotsLeftUnderOurPidByAnEarlierProcessAreFreedAtOpen) {
    auto earlier = open(2);  // stands for a process that had our pid and died holding slots
    ASSERT_TRUE(earlier->enter(milliseconds(0)));
    ASSERT_TRUE(earlier->enter(milliseconds(0)));
    auto now = open(2);
    EXPECT_EQ(now->in_progress(), 0u);
    EXPECT_TRUE(now->enter(milliseconds(0)));
    now->leave();
}

TEST_F(LoginGateTest, WithoutAFileTheSlotsAreInMemory) {
    std::string error;
    auto g = app::LoginGate::open("", 1, &error);
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->enter(milliseconds(0)));
    EXPECT_FALSE(g->enter(milliseconds(0)));
    g->leave();
    EXPECT_FALSE(std::filesystem::exists(path));
}
