// Text helpers (common/text): numbers, escaping for logs, counts, paths.
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

TEST(LogField, SpacesAreEscapedSoATokenStaysOne) {
    EXPECT_EQ(text::escape_log_field("alice"), "alice");
    EXPECT_EQ(text::escape_log_field("x rip=10.9.9.9"), "x\\x20rip=10.9.9.9");
    EXPECT_EQ(text::escape_log_field("a\tb\\"), "a\\x09b\\x5c");
    EXPECT_EQ(text::escape_for_log("a b"), "a b");  // free text keeps its spaces
}

TEST(TrimBlanks, SpacesAndTabsOnlyOtherBytesStay) {
    EXPECT_EQ(text::trim_trailing_blanks("USER al \t "), "USER al");
    EXPECT_EQ(text::trim_trailing_blanks(" x\r"), " x\r");
    EXPECT_EQ(text::trim_trailing_blanks(" \t"), "");
    EXPECT_EQ(text::trim_blanks("\t 12 \t"), "12");
    EXPECT_EQ(text::trim_blanks(" 1\r\r "), "1\r\r");
    EXPECT_EQ(text::trim_blanks(""), "");
}
