// The user-name rule: what may reach PAM and a mailbox path.
#include "auth/username.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

using namespace pop3d;

TEST(Username, ValidNames) {
    EXPECT_TRUE(auth::valid_username("alice", 64));
    EXPECT_TRUE(auth::valid_username("john.doe+pop@example", 64));
    EXPECT_TRUE(auth::valid_username(std::string(64, 'a'), 64));
}

TEST(Username, NamesThatCouldEscapeAPathOrConfuseATool) {
    for (const char* n : {"", ".", "..", "a/b", "/etc", "-x", "a b", "a\tb", "caf\xc3\xa9", "a\x7f"})
        EXPECT_FALSE(auth::valid_username(n, 64)) << n;
    EXPECT_FALSE(auth::valid_username(std::string_view("a\0b", 3), 64));
    EXPECT_FALSE(auth::valid_username(std::string(65, 'a'), 64));
}
