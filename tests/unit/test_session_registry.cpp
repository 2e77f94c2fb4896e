// The live-session table behind pop3d who and kick (one slot per session,
// claimed and freed without a lock, stale slots told from live ones), what
// a session does when it is kicked, and pop3d unblock's side of the
// failed-login table.
#include "app/failure_table.hpp"
#include "app/session_registry.hpp"
#include "fakes.hpp"
#include "session/session.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace pop3d;
using namespace pop3d::testing;
using app::Phase;
using app::SessionRegistry;

namespace {

class RegistryTest : public ::testing::Test {
protected:
    std::unique_ptr<SessionRegistry> open() {
        std::string error;
        auto r = SessionRegistry::open(dir.file("sessions"), &error);
        EXPECT_TRUE(r);
        EXPECT_EQ(error, "");
        return r;
    }
    static log::Connection connection(const std::string& id, const std::string& address = "192.0.2.1") {
        return {address, {}, id};
    }
    TempDir dir;
};

TEST_F(RegistryTest, ASessionIsListedFromConnectToDisconnect) {
    auto registry = open();
    EXPECT_TRUE(registry->live().empty());
    const auto before = std::time(nullptr);
    auto entry = registry->enter({"2001:db8::7", "192.0.2.99", "abcd2345"});
    ASSERT_TRUE(entry);
    auto rows = registry->live();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].session, "abcd2345");
    EXPECT_EQ(rows[0].address, "2001:db8::7");
    EXPECT_EQ(rows[0].proxy, "192.0.2.99");
    EXPECT_EQ(rows[0].user, "");
    EXPECT_EQ(rows[0].phase, Phase::authorization);
    EXPECT_EQ(rows[0].pid, ::getpid());
    EXPECT_EQ(rows[0].tid, ::gettid());
    EXPECT_GE(rows[0].since, before);
    EXPECT_LE(rows[0].since, std::time(nullptr));
    EXPECT_EQ(rows[0].start_ticks, app::thread_start_ticks(::getpid(), ::gettid()).value_or(1));

    entry->logged_in("alice");
    rows = registry->live();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].user, "alice");
    EXPECT_EQ(rows[0].phase, Phase::transaction);
    entry->updating();
    EXPECT_EQ(registry->live().at(0).phase, Phase::update);

    entry.reset();
    EXPECT_TRUE(registry->live().empty());
}

TEST_F(RegistryTest, EveryProcessOfTheHostSeesTheSameTable) {
    auto registry = open();
    auto mine = registry->enter(connection("parent01"));
    int to_child[2], to_parent[2];
    ASSERT_EQ(::pipe(to_child), 0);
    ASSERT_EQ(::pipe(to_parent), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {  // a separate pop3d -i: its own mapping of the file
        std::string error;
        auto own = SessionRegistry::attach(dir.file("sessions"), &error);
        auto entry = own ? own->enter(connection("child001")) : nullptr;
        if (entry) entry->logged_in("bob");
        char c = entry ? 'y' : 'n';
        (void)!::write(to_parent[1], &c, 1);
        (void)!::read(to_child[0], &c, 1);  // hold the slot until the parent has looked
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
    ASSERT_EQ(c, 'y');
    auto rows = registry->live();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].session, "child001");
    EXPECT_EQ(rows[1].user, "bob");
    EXPECT_EQ(rows[1].pid, pid);
    EXPECT_EQ(rows[1].tid, pid);
    (void)!::write(to_child[1], &c, 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(registry->live().size(), 1u);  // the child freed its slot
}

TEST_F(RegistryTest, ConcurrentClaimsEachGetASlotOfTheirOwn) {
    auto registry = open();
    constexpr int kThreads = 32;
    std::atomic<int> entered{0};
    std::atomic<bool> release{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            auto entry = registry->enter(connection("thread" + std::to_string(10 + i)));
            ASSERT_TRUE(entry);
            entry->logged_in("user" + std::to_string(i));
            ++entered;
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    while (entered < kThreads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto rows = registry->live();
    std::set<std::size_t> slots;
    std::set<pid_t> tids;
    std::set<std::string> users;
    for (const auto& r : rows) {
        slots.insert(r.index);
        tids.insert(r.tid);
        users.insert(r.user);
        EXPECT_EQ(r.session, "thread" + std::to_string(10 + std::stoi(r.user.substr(4))));
    }
    EXPECT_EQ(rows.size(), std::size_t(kThreads));
    EXPECT_EQ(slots.size(), std::size_t(kThreads));
    EXPECT_EQ(tids.size(), std::size_t(kThreads));
    EXPECT_EQ(users.size(), std::size_t(kThreads));
    release = true;
    for (auto& t : threads) t.join();
    EXPECT_TRUE(registry->live().empty());
}

// A child claims `count` slots and dies without freeing them (kill -9).
void claim_and_die(const std::string& path, std::size_t count) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::string error;
        auto registry = SessionRegistry::attach(path, &error);
        for (std::size_t i = 0; registry && i < count; ++i) {
            auto entry = registry->enter({"192.0.2.66", {}, "dead" + std::to_string(1000 + i)});
            if (entry) entry->logged_in("ghost");
            (void)entry.release();  // never freed
        }
        ::raise(SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
}

TEST_F(RegistryTest, SlotsOfADeadSessionAreSkippedAndFreed) {
    auto registry = open();
    claim_and_die(dir.file("sessions"), 1);
    auto rows = registry->live();
    EXPECT_TRUE(rows.empty());
    auto entry = registry->enter(connection("fresh001"));  // the freed slot is the first free one again
    ASSERT_TRUE(entry);
    rows = registry->live();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].index, 0u);
}

TEST_F(RegistryTest, AFullTableTakesOverTheSlotOfADeadSession) {
    auto registry = open();
    claim_and_die(dir.file("sessions"), SessionRegistry::kSlots);
    auto entry = registry->enter(connection("fresh001"));
    ASSERT_TRUE(entry);
    const auto rows = registry->live();  // the rest are dead: skipped
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].session, "fresh001");
}

TEST_F(RegistryTest, AFullTableOfLiveSessionsLeavesTheNextOneUnlisted) {
    auto registry = open();
    std::vector<std::unique_ptr<SessionRegistry::Entry>> entries;
    for (std::size_t i = 0; i < SessionRegistry::kSlots; ++i) {
        entries.push_back(registry->enter(connection("live" + std::to_string(1000 + i))));
        ASSERT_TRUE(entries.back());
    }
    EXPECT_FALSE(registry->enter(connection("toomany1")));
    entries.pop_back();
    EXPECT_TRUE(registry->enter(connection("fits0001")));
}

TEST_F(RegistryTest, AKickReachesItsSessionAndNotTheNextInTheSlot) {
    auto registry = open();
    // The test's own thread stands for the session: the wake signal must not kill it.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGURG, &ignore, nullptr);
    auto entry = registry->enter(connection("kickme01"));
    entry->logged_in("alice");
    EXPECT_FALSE(entry->kicked());
    const auto row = registry->live().at(0);
    EXPECT_EQ(registry->kick(row), SessionRegistry::Kick::signalled);
    EXPECT_TRUE(entry->kicked());
    EXPECT_TRUE(registry->still_there(row));
    entry.reset();
    EXPECT_FALSE(registry->still_there(row));
    auto next = registry->enter(connection("next0001"));  // the same slot, a new generation
    EXPECT_EQ(registry->live().at(0).index, row.index);
    EXPECT_FALSE(next->kicked());
    EXPECT_EQ(registry->kick(row), SessionRegistry::Kick::gone);  // the old copy names no one now
    EXPECT_FALSE(next->kicked());
}

TEST_F(RegistryTest, AttachNeverCreatesAndRefusesWhatIsNotARegistry) {
    std::string error;
    EXPECT_FALSE(SessionRegistry::attach(dir.file("sessions"), &error));
    EXPECT_NE(error.find("No such file"), std::string::npos) << error;
    EXPECT_FALSE(std::filesystem::exists(dir.file("sessions")));
    std::ofstream(dir.file("sessions")) << "junk";
    ::chmod(dir.file("sessions").c_str(), 0600);
    error.clear();
    EXPECT_FALSE(SessionRegistry::attach(dir.file("sessions"), &error));
    EXPECT_NE(error.find("not a private regular file"), std::string::npos) << error;
    EXPECT_NE(SessionRegistry::file_fault(dir.file("sessions")), "");
}

// ---- the session's side ----

class KickedSessionTest : public ::testing::Test {
protected:
    KickedSessionTest() : opener({"Subject: a\r\n\r\na\r\n", "Subject: b\r\n\r\nb\r\n"}) {
        auth.passwords = {{"alice", "secret"}};
    }
    FakeAuthenticator auth;
    FakeOpener opener;
    FakeClock clock;
    session::SessionSettings settings;
};

class RecordingObserver final : public session::SessionObserver {
public:
    void logged_in(std::string_view user) override { events.push_back("login " + std::string(user)); }
    void updating() override { events.emplace_back("update"); }
    std::vector<std::string> events;
};

TEST_F(KickedSessionTest, TheClientIsToldAndPendingDeletionsAreDropped) {
    ScriptTransport t({"USER alice\r\nPASS secret\r\nDELE 1\r\n"}, session::ReadStatus::stopped);
    t.stop_is_kick = true;
    session::Session s(t, auth, opener, clock, settings, {});
    EXPECT_EQ(s.run(), session::SessionEnd::kicked);
    EXPECT_EQ(session::to_string(session::SessionEnd::kicked), "kicked");
    EXPECT_EQ(opener.stats.expunge_calls, 0);
    EXPECT_TRUE(t.output.ends_with("+OK message 1 deleted\r\n-ERR [SYS/TEMP] session ended by the administrator\r\n"))
        << t.output;
}

TEST_F(KickedSessionTest, CommandsSentAheadDoNotRunAfterTheKick) {
    ScriptTransport t({"USER alice\r\nPASS secret\r\n", "DELE 1\r\nQUIT\r\n"});
    t.stop_after_reads = 2;
    t.stop_is_kick = true;
    session::Session s(t, auth, opener, clock, settings, {});
    EXPECT_EQ(s.run(), session::SessionEnd::kicked);
    EXPECT_EQ(opener.stats.expunge_calls, 0);
    EXPECT_TRUE(t.output.ends_with(" octets)\r\n-ERR [SYS/TEMP] session ended by the administrator\r\n")) << t.output;
}

TEST_F(KickedSessionTest, TheObserverHearsOfTheLoginAndTheUpdate) {
    RecordingObserver seen;
    ScriptTransport t({"USER alice\r\nPASS wrong\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n"});
    session::Session s(t, auth, opener, clock, settings, {});
    s.set_observer(&seen);
    EXPECT_EQ(s.run(), session::SessionEnd::quit);
    EXPECT_EQ(seen.events, (std::vector<std::string>{"login alice", "update"}));
}

// ---- pop3d unblock ----

class ForgetTest : public ::testing::Test {
protected:
    std::unique_ptr<app::FailureTable> open() {
        std::string error;
        auto t = app::FailureTable::open(dir.file("auth-failures"), std::chrono::seconds(600), &error);
        EXPECT_TRUE(t);
        return t;
    }
    TempDir dir;
};

TEST_F(ForgetTest, OneAddressIsForgottenAndTheOthersStay) {
    auto table = open();
    for (int i = 0; i < 3; ++i) table->reserve_guess("192.0.2.1", 3);
    table->reserve_guess("192.0.2.2", 3);
    table->reserve_guess("2001:db8:1:2::5", 3);
    EXPECT_FALSE(table->reserve_guess("192.0.2.1", 3).allowed);
    std::string error;
    auto other = app::FailureTable::attach(dir.file("auth-failures"), std::chrono::seconds(600), &error);
    ASSERT_TRUE(other) << error;  // what pop3d unblock maps: the daemon sees the change at once
    EXPECT_EQ(other->forget("192.0.2.1"), 3u);
    EXPECT_TRUE(table->reserve_guess("192.0.2.1", 3).allowed);
    EXPECT_EQ(table->failures("192.0.2.2"), 1u);
    EXPECT_EQ(other->forget("2001:db8:1:2::99"), 1u);  // the same /64
    EXPECT_EQ(table->failures("2001:db8:1:2::5"), 0u);
    EXPECT_EQ(other->forget("192.0.2.77"), 0u);
    EXPECT_EQ(other->forget("not-an-address"), std::nullopt);
}

TEST_F(ForgetTest, AllAddressesAreForgotten) {
    auto table = open();
    table->reserve_guess("192.0.2.1", 0);
    table->reserve_guess("192.0.2.1", 0);
    table->reserve_guess("198.51.100.3", 0);
    const auto f = table->forget_all();
    EXPECT_EQ(f.addresses, 2u);
    EXPECT_EQ(f.failures, 3u);
    EXPECT_EQ(table->failures("192.0.2.1"), 0u);
    EXPECT_EQ(table->failures("198.51.100.3"), 0u);
    EXPECT_EQ(table->forget_all().addresses, 0u);
}

TEST_F(ForgetTest, AttachNeverCreatesTheTable) {
    std::string error;
    EXPECT_FALSE(app::FailureTable::attach(dir.file("auth-failures"), std::chrono::seconds(600), &error));
    EXPECT_FALSE(std::filesystem::exists(dir.file("auth-failures")));
}

}  // namespace
