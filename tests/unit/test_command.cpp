// The command line: keyword and rest, arguments, numbers, and what is refused.
#include "session/command.hpp"

#include <gtest/gtest.h>

#include <string_view>

using namespace pop3d::session;

TEST(Command, SplitsKeywordAndRest) {
    auto c = split_command("PASS a b  c ");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->keyword, "PASS");
    EXPECT_EQ(c->rest, "a b  c ");
    c = split_command("STAT");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->keyword, "STAT");
    EXPECT_TRUE(c->rest.empty());
}

TEST(Command, RejectsEmptyAndControlCharacters) {
    EXPECT_FALSE(split_command(""));
    EXPECT_FALSE(split_command(std::string_view("USER a\0b", 8)));
    EXPECT_FALSE(split_command("USER a\rb"));
    EXPECT_FALSE(split_command("USER \x1b[2J"));
    EXPECT_FALSE(split_command("NOOP\x7f"));
    EXPECT_TRUE(split_command("USER caf\xc3\xa9"));  // 8-bit passes here; the name check refuses it
}

TEST(Command, ArgumentsAreSingleSpaceSeparated) {
    auto a = split_args("1 2", 2);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->size(), 2u);
    EXPECT_TRUE(split_args("1 ", 1));        // trailing space tolerated
    EXPECT_TRUE(split_args("", 0));
    EXPECT_FALSE(split_args("1", 0));
    EXPECT_FALSE(split_args("1 2 3", 2));
    EXPECT_FALSE(split_args("1  2", 2));     // empty field
    EXPECT_FALSE(split_args(" 1", 1));
}

TEST(Command, NumbersAreUnsignedDecimal) {
    EXPECT_EQ(parse_number("17"), 17u);
    EXPECT_FALSE(parse_number("-1"));
    EXPECT_FALSE(parse_number("1x"));
    EXPECT_FALSE(parse_number("0x10"));
    EXPECT_FALSE(parse_number(""));
}
