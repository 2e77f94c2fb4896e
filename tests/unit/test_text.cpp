#include "common/filesystem_kind.hpp"
#include "common/text.hpp"

#include <gtest/gtest.h>

using namespace pop3d;

TEST(Text, ParseU64AcceptsOnlyDigits) {
    EXPECT_EQ(text::parse_u64("0"), 0u);
    EXPECT_EQ(text::parse_u64("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(text::parse_u64("18446744073709551616"));
    EXPECT_FALSE(text::parse_u64(""));
    EXPECT_FALSE(text::parse_u64("-1"));
    EXPECT_FALSE(text::parse_u64("+1"));
    EXPECT_FALSE(text::parse_u64(" 1"));
    EXPECT_FALSE(text::parse_u64("1a"));
}

TEST(Text, EscapeForLogHidesControlBytes) {
    EXPECT_EQ(text::escape_for_log("alice"), "alice");
    EXPECT_EQ(text::escape_for_log(std::string_view("a\0b\r\n", 5)), "a\\x00b\\x0d\\x0a");
    EXPECT_EQ(text::escape_for_log("\\"), "\\x5c");
    EXPECT_EQ(text::escape_for_log("abcdef", 3), "abc...");
}

TEST(Text, IequalsIgnoresAsciiCase) {
    EXPECT_TRUE(text::iequals("StAt", "STAT"));
    EXPECT_FALSE(text::iequals("STAT", "STATS"));
}

TEST(FilesystemKind, NetworkAndClusterFilesystemsAreShared) {
    for (unsigned long nfs_and_co : {0x6969UL, 0xFF534D42UL, 0xFE534D42UL, 0x00C36400UL, 0x01161970UL})
        EXPECT_TRUE(pop3d::is_shared_filesystem_type(nfs_and_co)) << std::hex << nfs_and_co;
    for (unsigned long local : {0xEF53UL /* ext4 */, 0x01021994UL /* tmpfs */, 0x58465342UL /* xfs */, 0x9123683EUL})
        EXPECT_FALSE(pop3d::is_shared_filesystem_type(local)) << std::hex << local;
    EXPECT_FALSE(pop3d::on_shared_filesystem("/nonexistent/path"));
    EXPECT_FALSE(pop3d::on_shared_filesystem("/proc"));
}

TEST(Text, CountPutsTheNounInTheSingularOnlyForOne) {
    EXPECT_EQ(text::count(0, "message"), "0 messages");
    EXPECT_EQ(text::count(1, "message"), "1 message");
    EXPECT_EQ(text::count(2, "failed login"), "2 failed logins");
    EXPECT_EQ(text::count(18446744073709551615ULL, "octet"), "18446744073709551615 octets");
}

TEST(Text, ParentOfIsTheDirectoryPart) {
    EXPECT_EQ(text::parent_of("/run/pop3d.pid"), "/run");
    EXPECT_EQ(text::parent_of("/var/mail/alice"), "/var/mail");
    EXPECT_EQ(text::parent_of("/x"), "/");
    EXPECT_EQ(text::parent_of("x"), ".");
}
