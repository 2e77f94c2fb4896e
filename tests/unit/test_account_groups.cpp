// priv::account_groups: getgrouplist's grow loop, fed a fake. Whatever the
// group database does, the list never holds a gid the account was not
// given (a zero-padded buffer would add gid 0, root's group).
#include "priv/thread_credentials.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace pop3d;

namespace {

const auth::Account kUser{"alice", 1000, 1000, "/home/alice"};

int g_total = 0;  // how many groups the fake says the user has
int g_calls = 0;

// Like glibc: fills min(*ngroups, total) entries (the primary group first),
// sets *ngroups to the total and fails when the buffer was too small.
int fake_getgrouplist(const char*, gid_t group, gid_t* groups, int* ngroups) {
    ++g_calls;
    const int room = *ngroups;
    for (int i = 0; i < std::min(room, g_total); ++i) groups[i] = i == 0 ? group : static_cast<gid_t>(2000 + i);
    *ngroups = g_total;
    return g_total <= room ? g_total : -1;
}

// A database that keeps failing without saying how many it needs.
int failing_getgrouplist(const char*, gid_t, gid_t*, int* ngroups) {
    ++g_calls;
    *ngroups = 0;
    return -1;
}

std::vector<gid_t> groups_of(int total, priv::GroupListFn fn = fake_getgrouplist) {
    g_total = total;
    g_calls = 0;
    return priv::account_groups(kUser, fn);
}

TEST(AccountGroups, GrowsUntilEveryGroupFits) {
    const auto groups = groups_of(100);
    ASSERT_EQ(groups.size(), 100u);
    EXPECT_EQ(groups[0], kUser.gid);
    EXPECT_EQ(groups[99], 2099u);
}

TEST(AccountGroups, MoreThanTheKernelTakesIsCutNotPadded) {
    const auto groups = groups_of(70000);
    EXPECT_LE(groups.size(), 65536u);  // NGROUPS_MAX: setgroups takes no more
    EXPECT_EQ(groups[0], kUser.gid);
    EXPECT_EQ(std::count(groups.begin(), groups.end(), gid_t{0}), 0);
}

TEST(AccountGroups, ADatabaseThatKeepsFailingGivesThePrimaryGroupOnly) {
    const auto groups = groups_of(0, failing_getgrouplist);
    EXPECT_EQ(groups, std::vector<gid_t>{kUser.gid});
    EXPECT_LT(g_calls, 100);  // and the loop ends
}

}  // namespace
