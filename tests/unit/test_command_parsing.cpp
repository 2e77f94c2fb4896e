// Command-line parsing and the line reader under good and hostile input.
#include "auth/username.hpp"
#include "session/command.hpp"
#include "session/line_reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

using namespace pop3d;
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

namespace {
void feed(LineReader& r, std::string_view s) {
    while (!s.empty()) {
        auto sp = r.space();
        const std::size_t n = std::min(sp.size(), s.size());
        ASSERT_GT(n, 0u);
        std::memcpy(sp.data(), s.data(), n);
        r.commit(n);
        s.remove_prefix(n);
    }
}
}  // namespace

TEST(LineReader, SplitsPipelinedLinesAndStripsCrlf) {
    LineReader r(1024);
    feed(r, "STAT\r\nLIST\nNOOP\r\npartial");
    std::string_view line;
    ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
    EXPECT_EQ(line, "STAT");
    ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
    EXPECT_EQ(line, "LIST");
    ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
    EXPECT_EQ(line, "NOOP");
    EXPECT_EQ(r.next(line, 255), LineReader::Next::need_more);
    feed(r, "\r\n");
    ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
    EXPECT_EQ(line, "partial");
}

TEST(LineReader, LimitCountsTheCrlf) {
    LineReader r(1024);
    std::string_view line;
    feed(r, std::string(253, 'a') + "\r\n");  // 255 octets
    EXPECT_EQ(r.next(line, 255), LineReader::Next::line);
    feed(r, std::string(254, 'a') + "\r\n");  // 256 octets
    EXPECT_EQ(r.next(line, 255), LineReader::Next::too_long);
    feed(r, std::string(254, 'a') + "\n");  // counts as 256 with CRLF
    EXPECT_EQ(r.next(line, 255), LineReader::Next::too_long);
}

TEST(LineReader, HugeLineIsDiscardedInPiecesAndReportedOnce) {
    LineReader r(1024);
    std::string_view line;
    for (int i = 0; i < 100; ++i) {  // 100 KiB without a newline
        feed(r, std::string(1024, 'x'));
        EXPECT_EQ(r.next(line, 255), LineReader::Next::need_more);
    }
    feed(r, "tail\r\nNOOP\r\n");
    EXPECT_EQ(r.next(line, 255), LineReader::Next::too_long);
    ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
    EXPECT_EQ(line, "NOOP");
}

TEST(LineReader, WipeClearsConsumedBytes) {
    LineReader r(64);
    feed(r, "PASS secret\r\nNO");
    std::string_view line;
    ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
    const char* p = line.data();
    r.wipe_consumed();
    EXPECT_EQ(std::string(p, 11), std::string(11, '\0'));
    auto sp = r.space();  // the rest moved to the front, nothing of the password left
    EXPECT_EQ(std::string(sp.data() - 2, 2), "NO");
}

// A stop or an end() leaves the line just read, and lines pipelined after
// it, unconsumed: the reader wipes them when it goes.
TEST(LineReader, DestructorWipesUnconsumedLines) {
    std::array<char, 64> storage{};
    {
        LineReader r(storage);
        feed(r, "PASS secret\r\nAUTH PLAIN AGJvYgBzZWNyZXQ=\r\n");
        std::string_view line;
        ASSERT_EQ(r.next(line, 255), LineReader::Next::line);
        EXPECT_EQ(line, "PASS secret");
    }
    EXPECT_EQ(std::string(storage.data(), storage.size()), std::string(storage.size(), '\0'));
}
