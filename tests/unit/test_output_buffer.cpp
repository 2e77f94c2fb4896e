// The output buffer: short responses need no heap buffer, a batch or a
// message takes the large one, and the bytes come out in order either way.
#include "session/output_buffer.hpp"

#include "fakes.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace pop3d;
using pop3d::testing::ScriptTransport;
using pop3d::session::OutputBuffer;

TEST(OutputBuffer, AGreetingTakesNoHeapBuffer) {
    ScriptTransport t(std::vector<std::string>{});
    OutputBuffer out(t);
    ASSERT_TRUE(out.write("+OK POP3 server ready\r\n"));
    EXPECT_FALSE(out.holds_heap_buffer());
    ASSERT_TRUE(out.flush());
    EXPECT_EQ(t.output, "+OK POP3 server ready\r\n");
    EXPECT_EQ(t.writes, 1);
}

TEST(OutputBuffer, ABatchOutgrowingTheSmallBufferKeepsItsBytesAndStillGoesInOneWrite) {
    ScriptTransport t(std::vector<std::string>{});
    OutputBuffer out(t);
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        const std::string line = "+OK " + std::to_string(i) + " " + std::string(20, 'a' + i % 26) + "\r\n";
        ASSERT_TRUE(out.write(line));
        expected += line;
    }
    EXPECT_TRUE(out.holds_heap_buffer());
    ASSERT_TRUE(out.flush());
    EXPECT_EQ(t.output, expected);
    EXPECT_EQ(t.writes, 1);
    out.release();
    EXPECT_FALSE(out.holds_heap_buffer());
    ASSERT_TRUE(out.write("+OK\r\n"));
    EXPECT_FALSE(out.holds_heap_buffer());
    ASSERT_TRUE(out.flush());
    EXPECT_EQ(t.output, expected + "+OK\r\n");
}

TEST(OutputBuffer, SpaceForAMessageFollowsWhatIsBuffered) {
    ScriptTransport t(std::vector<std::string>{});
    OutputBuffer out(t);
    ASSERT_TRUE(out.write("+OK 5 octets\r\n"));
    const std::span<char> room = out.space(5);
    ASSERT_GE(room.size(), 5u);
    EXPECT_TRUE(out.holds_heap_buffer());
    std::memcpy(room.data(), "hello", 5);
    ASSERT_TRUE(out.commit(5));
    ASSERT_TRUE(out.write("\r\n.\r\n"));
    ASSERT_TRUE(out.flush());
    EXPECT_EQ(t.output, "+OK 5 octets\r\nhello\r\n.\r\n");
}
