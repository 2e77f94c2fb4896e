// The accounts pop3d never serves (auth/never_served): uid 0 always, and
// without root every uid but its own.
#include "auth/never_served.hpp"

#include <gtest/gtest.h>

using namespace pop3d;

TEST(NeverServed, RootAlwaysAndWithoutRootEveryoneButUs) {
    auth::Account root{"root", 0, 0, "/root"};
    auth::Account alice{"alice", 5001, 5001, "/home/alice"};
    EXPECT_EQ(auth::never_served(root, 0), "uid 0 is never served");
    EXPECT_EQ(auth::never_served(root, 5001), "uid 0 is never served");
    EXPECT_EQ(auth::never_served(alice, 0), "");
    EXPECT_EQ(auth::never_served(alice, 5001), "");
    EXPECT_EQ(auth::never_served(alice, 1000), "uid 5001 is not pop3d's own uid 1000 and pop3d does not run as root");
}
