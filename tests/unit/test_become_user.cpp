// priv::become_user and the one verification both drops share
// (verify_dropped). Dropping needs root: without it these tests skip.
#include "priv/credentials.hpp"
#include "priv/thread_credentials.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

using namespace pop3d;

namespace {

const auth::Account kNobody{"nobody", 65534, 65534, "/nonexistent"};
constexpr gid_t kMailGid = 8;  // any group nobody is not in

struct ThreadOutcome {
    priv::DropResult drop;
    priv::ThreadIds ids{};
    std::string verified;
    bool raised = false, lowered_fsgid = false;
};

// Runs the thread drop on a fresh thread, as the threaded daemon does.
ThreadOutcome drop_on_a_thread(std::optional<gid_t> keep) {
    ThreadOutcome out;
    std::thread([&] {
        out.drop = priv::become_user(kNobody, priv::Scope::thread, keep);
        out.ids = priv::thread_ids();
        out.verified = priv::verify_dropped(kNobody, keep.value_or(kNobody.gid), priv::account_groups(kNobody),
                                            priv::Scope::thread);
        if (!keep) return;
        priv::SavedGroupPrivilege privilege(priv::Scope::thread, kNobody.gid, *keep);
        out.raised = privilege.raise() && priv::thread_ids().fsgid == *keep;
        privilege.lower();
        out.lowered_fsgid = priv::thread_ids().fsgid == kNobody.gid;
    }).join();
    return out;
}

class BecomeUser : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    }
};

TEST_F(BecomeUser, AThreadBecomesTheUserForFilesOnly) {
    const ThreadOutcome t = drop_on_a_thread(std::nullopt);
    ASSERT_TRUE(t.drop.ok) << t.drop.error;
    EXPECT_TRUE(t.drop.dropped);
    EXPECT_EQ(t.ids.ruid, 0u);
    EXPECT_EQ(t.ids.euid, 0u);
    EXPECT_EQ(t.ids.fsuid, kNobody.uid);
    EXPECT_EQ(t.ids.sgid, kNobody.gid);
    EXPECT_EQ(t.verified, "") << "verify_dropped agrees with the drop";
    EXPECT_EQ(::geteuid(), 0u) << "the rest of the process stays root";
    EXPECT_EQ(priv::thread_ids().fsuid, 0u);
}

TEST_F(BecomeUser, AThreadKeepsTheMailGroupAsSavedGid) {
    const ThreadOutcome t = drop_on_a_thread(kMailGid);
    ASSERT_TRUE(t.drop.ok) << t.drop.error;
    EXPECT_EQ(t.ids.sgid, kMailGid);
    EXPECT_EQ(t.ids.fsgid, kNobody.gid);
    EXPECT_EQ(t.verified, "");
    EXPECT_TRUE(t.raised);
    EXPECT_TRUE(t.lowered_fsgid);
}

TEST_F(BecomeUser, TheProcessBecomesTheUserForGood) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const priv::DropResult r = priv::become_user(kNobody, priv::Scope::process, kMailGid);
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        const bool ids = ::getresuid(&ru, &eu, &su) == 0 && ru == kNobody.uid && eu == kNobody.uid &&
                         su == kNobody.uid && ::getresgid(&rg, &eg, &sg) == 0 && eg == kNobody.gid && sg == kMailGid;
        const bool again = priv::verify_dropped(kNobody, kMailGid, priv::account_groups(kNobody),
                                                priv::Scope::process)
                               .empty();
        ::_exit(r.ok && r.dropped && ids && again ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(BecomeUser, VerificationCatchesAnUndroppedRoot) {
    const auto groups = priv::account_groups(kNobody);
    EXPECT_EQ(priv::verify_dropped(kNobody, kNobody.gid, groups, priv::Scope::thread),
              "thread credentials did not change as requested");
    EXPECT_EQ(priv::verify_dropped(kNobody, kNobody.gid, groups, priv::Scope::process),
              "credentials did not change as requested");
}

TEST(BecomeUserAnyone, UidZeroIsNeverServed) {
    const priv::DropResult r = priv::become_user({"root", 0, 0, "/root"}, priv::Scope::thread, std::nullopt);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("uid 0 is never served"), std::string::npos) << r.error;
}

}  // namespace
