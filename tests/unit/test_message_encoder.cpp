// The writer that turns stored bytes into wire bytes: CRLF, dot-stuffing,
// unquoting, TOP, and streaming with any chunking.
#include "mbox_helpers.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace pop3d;
using namespace pop3d::testing;

namespace {

// Undo dot-stuffing as a client does.
std::string unstuff(const std::string& s) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (line_start && s[i] == '.') {
            line_start = false;
            continue;  // drop the stuffed dot; the next byte is the real one
        }
        out.push_back(s[i]);
        line_start = s[i] == '\n';
    }
    return out;
}

}  // namespace

TEST(MessageEncoder, LfBecomesCrlfAndCrlfStays) {
    EXPECT_EQ(encode("a\nb\r\nc\n", false, false), "a\r\nb\r\nc\r\n");
}

TEST(MessageEncoder, NeverSendsCrCrLfForCrlfMail) {
    const std::string out = encode("a\r\nb\r\n", false, true, std::nullopt, 1);
    EXPECT_EQ(out, "a\r\nb\r\n");
}

TEST(MessageEncoder, DotStuffingIncludingTheFirstLine) {
    EXPECT_EQ(encode(".\n..\n.foo\nx.y\n", false, true), "..\r\n...\r\n..foo\r\nx.y\r\n");
    EXPECT_EQ(encode(".", false, true), "..\r\n");
}

TEST(MessageEncoder, MissingFinalNewlineIsTerminated) {
    EXPECT_EQ(encode("abc", false, true), "abc\r\n");
    EXPECT_EQ(encode("", false, true), "");
}

TEST(MessageEncoder, UnquotingAcrossChunkBoundaries) {
    const std::string in = ">>>From x\n>From y\n>Fro\n>>>";
    for (std::size_t chunk = 1; chunk <= in.size(); ++chunk)
        EXPECT_EQ(encode(in, true, true, std::nullopt, chunk), ">>From x\r\nFrom y\r\n>Fro\r\n>>>\r\n") << chunk;
}

TEST(MessageEncoder, HugeGreaterThanRunIsStreamed) {
    const std::string in = std::string(100000, '>') + "From x\n";
    const std::string out = encode(in, true, true, std::nullopt, 4096);
    EXPECT_EQ(out, std::string(99999, '>') + "From x\r\n");
}

TEST(MessageEncoder, TopZeroSendsHeadersAndTheBlankLine) {
    const std::string msg = "A: 1\nB: 2\n\nbody1\nbody2\n";
    EXPECT_EQ(encode(msg, false, true, 0), "A: 1\r\nB: 2\r\n\r\n");
    EXPECT_EQ(encode(msg, false, true, 1), "A: 1\r\nB: 2\r\n\r\nbody1\r\n");
    EXPECT_EQ(encode(msg, false, true, 2), encode(msg, false, true));
    EXPECT_EQ(encode(msg, false, true, 1000000), encode(msg, false, true));
}

TEST(MessageEncoder, TopOnCrlfMailAndOnMailWithoutBody) {
    EXPECT_EQ(encode("A: 1\r\n\r\nb\r\nc\r\n", false, true, 1), "A: 1\r\n\r\nb\r\n");
    EXPECT_EQ(encode("A: 1\nB: 2", false, true, 0), "A: 1\r\nB: 2\r\n");  // no blank line: no extra one
}

TEST(MessageEncoder, TopStopsEarlyAndIgnoresTheRest) {
    StringSink sink;
    mailbox::MessageEncoder enc(sink, false, true, 0);
    enc.feed("H: v\n\nbody\n", 11);
    EXPECT_TRUE(enc.done());
    EXPECT_TRUE(enc.finish());
    EXPECT_EQ(sink.data, "H: v\r\n\r\n");
}

TEST(MessageEncoder, FailingSinkStopsTheEncoder) {
    struct Failing final : mailbox::ByteSink {
        bool write(std::string_view) override { return false; }
    } sink;
    mailbox::MessageEncoder enc(sink, false, true, std::nullopt);
    EXPECT_FALSE(enc.feed("abc\n", 4));
    EXPECT_FALSE(enc.finish());
    const std::string big(100 * 1024, 'x');  // the block path too
    mailbox::MessageEncoder big_enc(sink, false, true, std::nullopt);
    EXPECT_FALSE(big_enc.feed(big.data(), big.size()));
    EXPECT_FALSE(big_enc.finish());
}

TEST(MessageEncoder, RandomInputAnyChunkingSameOutputAndUnstuffsToTheCanonicalForm) {
    std::mt19937 rng(777);
    const char alphabet[] = {'.', '\n', '\r', '>', 'F', 'r', 'o', 'm', ' ', 'x', '\0'};
    for (int round = 0; round < 500; ++round) {
        std::string in;
        const int n = static_cast<int>(rng() % 80);
        for (int i = 0; i < n; ++i) in.push_back(alphabet[rng() % sizeof alphabet]);
        const bool unquote = rng() % 2;
        const std::string ref = encode(in, unquote, true);
        for (std::size_t chunk : {1, 2, 3, 5, 13})
            ASSERT_EQ(encode(in, unquote, true, std::nullopt, chunk), ref) << round << " chunk " << chunk;
        EXPECT_EQ(unstuff(ref), encode(in, unquote, false)) << round;
        // Output has only CRLF line ends: every LF follows a CR.
        for (std::size_t i = 0; i < ref.size(); ++i)
            if (ref[i] == '\n') {
                ASSERT_TRUE(i > 0 && ref[i - 1] == '\r') << round;
            }
        if (!ref.empty()) {
            EXPECT_EQ(ref.substr(ref.size() - 2), "\r\n") << round;
        }
    }
}
