// The line reader under good and hostile input: pipelining, the length
// limit, huge lines, and wiping what it held.
#include "session/line_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

using namespace pop3d::session;

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

// An idle connection holds no input buffer: it is allocated at the first
// read and given back (wiped) while nothing is buffered; a partial line
// keeps it.
TEST(LineReader, TheBufferIsAllocatedWhenNeededAndGivenBackWhenEmpty) {
    LineReader r(64);
    EXPECT_FALSE(r.holds_buffer());
    std::string_view line;
    EXPECT_EQ(r.next(line, 64), LineReader::Next::need_more);
    EXPECT_FALSE(r.has_line());
    r.release();
    EXPECT_FALSE(r.holds_buffer());
    feed(r, "NOOP\r\nST");
    EXPECT_TRUE(r.holds_buffer());
    ASSERT_EQ(r.next(line, 64), LineReader::Next::line);
    EXPECT_EQ(line, "NOOP");
    EXPECT_EQ(r.next(line, 64), LineReader::Next::need_more);
    r.release();
    EXPECT_TRUE(r.holds_buffer()) << "\"ST\" is still buffered";
    feed(r, "AT\r\n");
    ASSERT_EQ(r.next(line, 64), LineReader::Next::line);
    EXPECT_EQ(line, "STAT");
    r.release();
    EXPECT_FALSE(r.holds_buffer());
    feed(r, "QUIT\r\n");
    ASSERT_EQ(r.next(line, 64), LineReader::Next::line);
    EXPECT_EQ(line, "QUIT");
}

// A too-long line being skipped is remembered across a release: its end is
// still reported once, not taken as a command.
TEST(LineReader, ALongLineBeingSkippedSurvivesARelease) {
    LineReader r(16);
    std::string_view line;
    feed(r, std::string(16, 'x'));
    EXPECT_EQ(r.next(line, 16), LineReader::Next::need_more);
    r.release();
    EXPECT_FALSE(r.holds_buffer());
    feed(r, "yyyy\r\nNOOP\r\n");
    EXPECT_EQ(r.next(line, 16), LineReader::Next::too_long);
    ASSERT_EQ(r.next(line, 16), LineReader::Next::line);
    EXPECT_EQ(line, "NOOP");
}
