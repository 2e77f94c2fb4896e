// The mbox indexer: message boundaries, the From_ rule, canonical sizes that
// equal what is sent, on every edge case of real mailboxes.
#include "mbox_helpers.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace pop3d;
using namespace pop3d::testing;

namespace {

const std::string kFrom1 = "From alice@example.org Thu Nov 26 10:00:00 2026\n";
const std::string kFrom2 = "From bob@example.org Thu Nov 26 11:00:00 2026\n";

// Every message's size equals its served bytes, whatever the chunking.
void expect_sizes_match(const std::string& mbox, bool unquote = true) {
    const Indexed whole = index_mbox(mbox, unquote);
    ASSERT_TRUE(whole.ok);
    for (std::size_t chunk : {1, 2, 3, 7, 64, 65, 100, 129, 4096}) {
        const Indexed ix = index_mbox(mbox, unquote, chunk);
        ASSERT_TRUE(ix.ok);
        ASSERT_EQ(ix.messages.size(), whole.messages.size()) << "chunk " << chunk;
        for (std::size_t i = 0; i < ix.messages.size(); ++i) {
            EXPECT_EQ(ix.messages[i].content_offset, whole.messages[i].content_offset);
            EXPECT_EQ(ix.messages[i].content_end, whole.messages[i].content_end);
            EXPECT_EQ(ix.messages[i].size, whole.messages[i].size) << "chunk " << chunk << " msg " << i;
        }
    }
    for (const auto& m : whole.messages) {
        EXPECT_EQ(m.size, served(mbox, m, unquote).size());
    }
}

}  // namespace

TEST(MboxIndex, EmptyFileHasNoMessages) {
    const Indexed ix = index_mbox("");
    EXPECT_TRUE(ix.ok);
    EXPECT_TRUE(ix.messages.empty());
}

TEST(MboxIndex, TwoMessagesSeparatedByABlankLine) {
    const std::string mbox = kFrom1 + "Subject: a\n\nbody a\n\n" + kFrom2 + "Subject: b\n\nbody b\n\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_TRUE(ix.ok);
    ASSERT_EQ(ix.messages.size(), 2u);
    EXPECT_EQ(ix.messages[0].from_offset, 0u);
    EXPECT_EQ(served(mbox, ix.messages[0]), "Subject: a\r\n\r\nbody a\r\n");
    EXPECT_EQ(served(mbox, ix.messages[1]), "Subject: b\r\n\r\nbody b\r\n");
    EXPECT_EQ(ix.messages[1].from_offset, mbox.find("From bob"));
    expect_sizes_match(mbox);
}

TEST(MboxIndex, FromLineIsNotPartOfTheMessage) {
    const std::string mbox = kFrom1 + "X: 1\n\nhi\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 1u);
    EXPECT_EQ(served(mbox, ix.messages[0]), "X: 1\r\n\r\nhi\r\n");
}

TEST(MboxIndex, FromOnlyAtLineStartSeparates) {
    // "From " inside a line, ">From " quoted, "From" without space: all body.
    const std::string mbox = kFrom1 + "S: x\n\nsay From here\n>From quoted\nFromage\nFrom\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 1u);
    EXPECT_EQ(served(mbox, ix.messages[0]), "S: x\r\n\r\nsay From here\r\nFrom quoted\r\nFromage\r\nFrom\r\n");
    expect_sizes_match(mbox);
}

TEST(MboxIndex, FromLineWithoutPrecedingBlankLineStillSeparates) {
    const std::string mbox = kFrom1 + "S: x\n\nbody\n" + kFrom2 + "S: y\n\nbody2\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 2u);
    EXPECT_EQ(served(mbox, ix.messages[0]), "S: x\r\n\r\nbody\r\n");
}

TEST(MboxIndex, MboxrdUnquotingRemovesOneGreaterThan) {
    const std::string mbox = kFrom1 + "S: x\n\n>From a\n>>From b\n>>>From c\n> From d\n>Fro\n>\n";
    const Indexed on = index_mbox(mbox, true);
    EXPECT_EQ(served(mbox, on.messages[0], true),
              "S: x\r\n\r\nFrom a\r\n>From b\r\n>>From c\r\n> From d\r\n>Fro\r\n>\r\n");
    const Indexed off = index_mbox(mbox, false);
    EXPECT_EQ(served(mbox, off.messages[0], false),
              "S: x\r\n\r\n>From a\r\n>>From b\r\n>>>From c\r\n> From d\r\n>Fro\r\n>\r\n");
    expect_sizes_match(mbox, true);
    expect_sizes_match(mbox, false);
}

TEST(MboxIndex, CrlfStoredMailIsNotDoubled) {
    const std::string mbox = "From a Thu Nov 26 10:00:00 2026\r\nSubject: crlf\r\n\r\nline\r\nmixed\nend\r\n\r\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 1u);
    const std::string out = served(mbox, ix.messages[0]);
    EXPECT_EQ(out, "Subject: crlf\r\n\r\nline\r\nmixed\r\nend\r\n");
    EXPECT_EQ(out.find("\r\r\n"), std::string::npos);
    expect_sizes_match(mbox);
}

TEST(MboxIndex, LastMessageWithoutFinalNewlineGetsCrlfCounted) {
    const std::string mbox = kFrom1 + "S: x\n\nno newline at end";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 1u);
    EXPECT_EQ(served(mbox, ix.messages[0]), "S: x\r\n\r\nno newline at end\r\n");
    EXPECT_EQ(ix.messages[0].size, std::string("S: x\r\n\r\nno newline at end\r\n").size());
    expect_sizes_match(mbox);
}

TEST(MboxIndex, TrailingCrWithoutLfBecomesOneLineEnd) {
    const std::string mbox = kFrom1 + "S: x\n\nends in CR\r";
    const Indexed ix = index_mbox(mbox);
    EXPECT_EQ(served(mbox, ix.messages[0]), "S: x\r\n\r\nends in CR\r\n");
    expect_sizes_match(mbox);
}

TEST(MboxIndex, NulBytesAreKept) {
    const std::string mbox = kFrom1 + std::string("S: x\n\na\0b\n", 10);
    const Indexed ix = index_mbox(mbox);
    EXPECT_EQ(served(mbox, ix.messages[0]), std::string("S: x\r\n\r\na\0b\r\n", 13));
    expect_sizes_match(mbox);
}

TEST(MboxIndex, VeryLongLines) {
    const std::string longline(300 * 1024, 'x');
    const std::string mbox = kFrom1 + "S: x\n\n" + longline + "\n" + longline + "\n\n" + kFrom2 + "S: y\n\n" + longline;
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 2u);
    EXPECT_EQ(ix.messages[0].size, 8 + 2 * (longline.size() + 2));
    EXPECT_EQ(ix.messages[1].size, 8 + longline.size() + 2);
    expect_sizes_match(mbox);
}

TEST(MboxIndex, ContentLengthHeadersAreIgnored) {
    const std::string mbox = kFrom1 + "Content-Length: 3\n\n0123456789\n\n" + kFrom2 + "Content-Length: 99999\n\nx\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 2u);
    EXPECT_EQ(served(mbox, ix.messages[0]), "Content-Length: 3\r\n\r\n0123456789\r\n");
}

TEST(MboxIndex, OnlyOneSeparatorLineIsDropped) {
    const std::string mbox = kFrom1 + "S: x\n\nbody\n\n\n\n" + kFrom2 + "S: y\n\nb\n";
    const Indexed ix = index_mbox(mbox);
    EXPECT_EQ(served(mbox, ix.messages[0]), "S: x\r\n\r\nbody\r\n\r\n\r\n");
    expect_sizes_match(mbox);
}

TEST(MboxIndex, EmptyMessages) {
    const std::string mbox = kFrom1 + kFrom2 + "\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 2u);
    for (const auto& m : ix.messages) {
        EXPECT_EQ(m.size, 0u);
    }
    EXPECT_EQ(ix.end, mbox.size());
    expect_sizes_match(mbox);
}

// A file that ends inside a From_ line holds a delivery cut short (found by
// fuzzing: it used to index as an empty message that RETR then refused).
// It is no message, and the index ends where it starts.
TEST(MboxIndex, IncompleteFromLineAtTheEndIsNoMessage) {
    const std::string head = kFrom1 + "S: x\n\nbody\n\n";
    for (const std::string& tail : {std::string("From c Thu Nov 26 12:00:00 2026"), std::string("From "),
                                    std::string("From c\r")}) {
        for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
            const Indexed ix = index_mbox(head + tail, true, chunk);
            ASSERT_TRUE(ix.ok);
            ASSERT_EQ(ix.messages.size(), 1u) << tail;
            EXPECT_EQ(ix.end, head.size()) << tail;
            EXPECT_EQ(served(head, ix.messages[0]), "S: x\r\n\r\nbody\r\n");
        }
    }
    const Indexed only = index_mbox("From c Thu");
    EXPECT_TRUE(only.ok);
    EXPECT_TRUE(only.messages.empty());
    EXPECT_EQ(only.end, 0u);
}

TEST(MboxIndex, LeadingBlankLinesAreTolerated) {
    const Indexed ix = index_mbox("\n\r\n" + kFrom1 + "S: x\n\nb\n");
    EXPECT_TRUE(ix.ok);
    EXPECT_EQ(ix.messages.size(), 1u);
}

TEST(MboxIndex, TextBeforeTheFirstFromLineIsNotAnMbox) {
    EXPECT_FALSE(index_mbox("Subject: not mbox\n\nhello\n").ok);
    EXPECT_FALSE(index_mbox("garbage without newline").ok);
    EXPECT_FALSE(index_mbox(">From x\n" + kFrom1).ok);
}

TEST(MboxIndex, RandomMailboxesSizesAlwaysMatch) {
    std::mt19937 rng(12345);
    const std::vector<std::string> pieces = {"From ", ">From ", ">>From ", ".", "..", "\n", "\r\n", "\r", "x", "Subject: s",
                                             " ", std::string(1, '\0'), ">", "From", "\n\n", "line", "F"};
    for (int round = 0; round < 300; ++round) {
        std::string mbox = kFrom1;
        const int n = static_cast<int>(rng() % 60);
        for (int i = 0; i < n; ++i) mbox += pieces[rng() % pieces.size()];
        SCOPED_TRACE(round);
        expect_sizes_match(mbox, round % 2 == 0);
    }
}

// Mailboxes long enough for the 64-byte block scanner, with the bytes it
// must not miss (line ends, CRs, 'F' and '>' at line starts) at every
// position of a block: it must agree with the byte-wise path (chunks
// shorter than a block) on every field.
TEST(MboxIndex, BlockScannerAgreesWithTheByteWisePath) {
    std::mt19937 rng(4242);
    const std::vector<std::string> pieces = {"From ", ">From ", ">>From x", ".", "\n", "\r\n", "\r", "x", "\n\n",
                                             "Subject: s", "F", ">", "\nFrom ", "\r\n\r\n", "From:",
                                             "some text of an ordinary line in a message body"};
    for (int round = 0; round < 400; ++round) {
        std::string mbox = kFrom1;
        const int n = 50 + static_cast<int>(rng() % 400);
        for (int i = 0; i < n; ++i) mbox += pieces[rng() % pieces.size()];
        SCOPED_TRACE(round);
        expect_sizes_match(mbox, round % 2 == 0);
        const Indexed fast = index_mbox(mbox, round % 2 == 0);
        const Indexed slow = index_mbox(mbox, round % 2 == 0, 1);
        EXPECT_EQ(fast.end, slow.end);
        ASSERT_EQ(fast.messages.size(), slow.messages.size());
        for (std::size_t i = 0; i < fast.messages.size(); ++i)
            EXPECT_EQ(fast.messages[i].from_offset, slow.messages[i].from_offset) << i;
    }
}

// max_messages: the index stops at the From_ line after the last one it
// may hold, whatever the chunking, and ends there.
TEST(MboxIndex, StopsAtMaxMessages) {
    const std::string m = kFrom1 + "S: x\n\nbody\n\n";
    const std::string mbox = m + m + m + m;
    for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{1} << 20}) {
        mailbox::MboxIndexer ix(true, 2);
        for (std::size_t i = 0; i < mbox.size() && !ix.full(); i += chunk)
            ix.feed(mbox.data() + i, std::min(chunk, mbox.size() - i));
        EXPECT_TRUE(ix.full());
        ASSERT_TRUE(ix.finish());
        ASSERT_EQ(ix.messages().size(), 2u);
        EXPECT_EQ(ix.end(), 2 * m.size());
        EXPECT_EQ(served(mbox, ix.messages()[1]), "S: x\r\n\r\nbody\r\n");
    }
    mailbox::MboxIndexer exact(true, 4);
    exact.feed(mbox.data(), mbox.size());
    EXPECT_TRUE(exact.finish());
    EXPECT_FALSE(exact.full());
    EXPECT_EQ(exact.messages().size(), 4u);
}

// ---- mboxcl: a consistent Content-Length delimits the body ----

namespace {

// What index_mbox gives without looking at Content-Length at all.
Indexed index_from_lines_only(const std::string& mbox, bool unquote = true) {
    mailbox::MboxIndexer ix(unquote);
    ix.feed(mbox.data(), mbox.size());
    const bool ok = ix.finish();
    return {ok, {ix.messages().begin(), ix.messages().end()}, ix.end()};
}

std::string cl_message(const std::string& from, const std::string& body, const std::string& length_field,
                       const std::string& separator = "\n") {
    return from + "Subject: s\n" + length_field + "\n\n" + body + separator;
}

std::string length_of(const std::string& body) { return "Content-Length: " + std::to_string(body.size()); }

const std::string kForgedBody =
    "body line\nFrom bank@example.com Mon Nov 30 10:00:00 2026\nSubject: Your Bank\n\nforged\n>From quoted\n";

}  // namespace

// procmail, given a message with a Content-Length header, writes the true
// length (no space after the colon) and quotes no From line of the body.
TEST(MboxIndexContentLength, ProcmailStyleBodyWithAFromLineIsOneMessage) {
    const std::string first = cl_message(kFrom1, kForgedBody, "Content-Length:" + std::to_string(kForgedBody.size()));
    const std::string mbox = first + kFrom2 + "Subject: b\n\nplain\n\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_TRUE(ix.ok);
    ASSERT_EQ(ix.messages.size(), 2u);
    EXPECT_EQ(served(mbox, ix.messages[0]),
              "Subject: s\r\nContent-Length:97\r\n\r\nbody line\r\nFrom bank@example.com Mon Nov 30 10:00:00 2026\r\n"
              "Subject: Your Bank\r\n\r\nforged\r\n>From quoted\r\n");  // sent as stored: nothing unquoted
    EXPECT_TRUE(ix.messages[0].flags & mailbox::MessageEntry::kContentLength);
    EXPECT_FALSE(ix.messages[1].flags & mailbox::MessageEntry::kContentLength);
    EXPECT_EQ(served(mbox, ix.messages[1]), "Subject: b\r\n\r\nplain\r\n");
    EXPECT_EQ(index_from_lines_only(mbox).messages.size(), 3u);  // what the forger wanted
    expect_sizes_match(mbox);
    expect_sizes_match(mbox, false);
}

// dovecot-lda writes a Content-Length into every message and quotes nothing.
TEST(MboxIndexContentLength, DovecotStyleMailboxSplitsAtTheLengths) {
    const std::vector<std::string> bodies = {kForgedBody, "plain body\nFrom me here\n", "", "x\n\nFrom y\n\n"};
    std::string mbox;
    for (const auto& b : bodies) mbox += cl_message(kFrom1, b, length_of(b));
    const Indexed ix = index_mbox(mbox);
    ASSERT_TRUE(ix.ok);
    ASSERT_EQ(ix.messages.size(), bodies.size());
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const auto& m = ix.messages[i];
        EXPECT_EQ(mbox.substr(m.content_end - bodies[i].size(), bodies[i].size()), bodies[i]) << i;
        EXPECT_EQ(m.content_end + 1, i + 1 < bodies.size() ? ix.messages[i + 1].from_offset : mbox.size()) << i;
    }
    expect_sizes_match(mbox);
}

TEST(MboxIndexContentLength, EveryConsistentEnding) {
    const std::string body = "one\nFrom two\n";
    // Right before a From_ line with no separator, at the end of the file,
    // a CRLF separator, and a body that ends the file without a newline.
    for (const std::string& mbox : {cl_message(kFrom1, body, length_of(body), "") + kFrom2 + "S: b\n\nb\n",
                                    cl_message(kFrom1, body, length_of(body), ""),
                                    cl_message(kFrom1, body, length_of(body), "\r\n") + kFrom2 + "S: b\n\nb\n",
                                    cl_message(kFrom1, body, length_of(body), "\r\n"),
                                    cl_message(kFrom1, "no newline", "Content-Length: 10", "")}) {
        SCOPED_TRACE(mbox);
        const Indexed ix = index_mbox(mbox);
        ASSERT_TRUE(ix.ok);
        ASSERT_GE(ix.messages.size(), 1u);
        EXPECT_TRUE(ix.messages[0].flags & mailbox::MessageEntry::kContentLength);
        expect_sizes_match(mbox);
    }
    const std::string cut = cl_message(kFrom1, "no newline", "Content-Length: 10", "");
    EXPECT_EQ(served(cut, index_mbox(cut).messages[0]), "Subject: s\r\nContent-Length: 10\r\n\r\nno newline\r\n");
}

// A length that does not end at a boundary is ignored: the From_ lines
// split as if it were not there, so a sender's header swallows nothing.
TEST(MboxIndexContentLength, InconsistentLengthsAreIgnored) {
    const std::string body = "one\nFrom two\n";
    const std::string next = kFrom2 + "S: b\n\nb\n\n";
    const std::vector<std::string> fields = {
        "Content-Length: " + std::to_string(body.size() - 1),   // ends inside a line
        "Content-Length: " + std::to_string(body.size() - 4),   // ends at "From two": mid-line before it
        "Content-Length: " + std::to_string(body.size() + 3),   // inside the next From_ line
        "Content-Length: " + std::to_string(body.size() + 1 + next.size() - 2),  // near, not at, the end
        "Content-Length: 99999999999999999999",                 // past everything, and overflowing
        "Content-Length: 123456789012345678901234567890",
        "Content-Length: 12x",
        "Content-Length: -5",
        "Content-Length: 1 2",
        "Content-Length:",
        "Content-Length: " + std::to_string(body.size()) + "\nContent-Length: " + std::to_string(body.size()),
        "Content-Length:\n " + std::to_string(body.size()),     // folded
        "Content-Length: " + std::to_string(body.size()) + "\n\t",  // folded after the value
        "Content-Length: " + std::string(80, ' ') + std::to_string(body.size()),  // too long to read
    };
    for (const std::string& field : fields) {
        const std::string mbox = cl_message(kFrom1, body, field) + next;
        SCOPED_TRACE(field);
        const Indexed with = index_mbox(mbox);
        const Indexed without = index_from_lines_only(mbox);
        ASSERT_TRUE(with.ok);
        ASSERT_EQ(with.messages.size(), without.messages.size());
        for (std::size_t i = 0; i < with.messages.size(); ++i) {
            EXPECT_EQ(with.messages[i].content_end, without.messages[i].content_end);
            EXPECT_EQ(with.messages[i].size, without.messages[i].size);
            EXPECT_FALSE(with.messages[i].flags & mailbox::MessageEntry::kContentLength);
        }
        expect_sizes_match(mbox);
    }
}

// A length that spans the next message exactly is consistent: that is the
// format (mutt and formail read it the same way). It needs the exact
// length of every message it covers, From_ lines with their dates included.
TEST(MboxIndexContentLength, ALengthCoveringWholeMessagesIsHonoured) {
    const std::string body = "one\n";
    const std::string next = kFrom2 + "S: b\n\nb\n\n";
    const std::string mbox = cl_message(kFrom1, body, "Content-Length: " + std::to_string(body.size() + 1 + next.size() - 1)) + next;
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 1u);
    EXPECT_EQ(ix.messages[0].content_end, mbox.size() - 1);
}

TEST(MboxIndexContentLength, FieldNameIsCaseInsensitiveAndMayEndInSpaces) {
    const std::string body = "a\nFrom b\n";
    for (const std::string name : {"content-length:", "CONTENT-LENGTH:", "Content-Length :", "Content-length:\t"}) {
        const std::string mbox = cl_message(kFrom1, body, name + std::to_string(body.size()) + " ");
        SCOPED_TRACE(name);
        const Indexed ix = index_mbox(mbox);
        ASSERT_EQ(ix.messages.size(), 1u);
        expect_sizes_match(mbox);
    }
}

// Where no From_ line hides in a body, honouring the lengths changes
// nothing: the same messages, the same bytes, so the same UIDs.
TEST(MboxIndexContentLength, OrdinaryMailboxesIndexAsBefore) {
    std::string mbox;
    for (int i = 0; i < 50; ++i) {
        const std::string b = "line " + std::to_string(i) + "\n\n" + std::string(static_cast<std::size_t>(i * 37), 'z') + "\n";
        mbox += cl_message(i % 2 ? kFrom1 : kFrom2, b, length_of(b));
    }
    const Indexed with = index_mbox(mbox), without = index_from_lines_only(mbox);
    ASSERT_EQ(with.messages.size(), without.messages.size());
    for (std::size_t i = 0; i < with.messages.size(); ++i) {
        EXPECT_EQ(with.messages[i].from_offset, without.messages[i].from_offset);
        EXPECT_EQ(with.messages[i].content_end, without.messages[i].content_end);
        EXPECT_EQ(with.messages[i].size, without.messages[i].size);
    }
}

TEST(MboxIndexContentLength, CrlfMailboxAndRandomBodiesUnderEveryChunking) {
    std::mt19937 rng(99);
    const std::vector<std::string> pieces = {"From x\n", ">From y\n", "\n", "\r\n", "line\n", "F", ".", "\r",
                                             "Content-Length: 3\n", std::string(70, 'w') + "\n"};
    for (int round = 0; round < 200; ++round) {
        std::string mbox;
        const int messages = 1 + static_cast<int>(rng() % 4);
        for (int m = 0; m < messages; ++m) {
            std::string body;
            const int n = static_cast<int>(rng() % 30);
            for (int i = 0; i < n; ++i) body += pieces[rng() % pieces.size()];
            const int skew = static_cast<int>(rng() % 5) - 2;  // mostly right, sometimes off
            const std::string field = "Content-Length: " + std::to_string(static_cast<long>(body.size()) + (rng() % 3 ? 0 : skew));
            mbox += cl_message(kFrom1, body, field, rng() % 4 ? "\n" : "\r\n");
        }
        SCOPED_TRACE(round);
        expect_sizes_match(mbox, round % 2 == 0);
    }
}

// The look ahead reads the source, not the bytes fed: when they disagree
// (the file changed under a writer that takes no lock) indexing fails as
// changed, never with a wrong index.
TEST(MboxIndexContentLength, SourceAndBytesThatDisagreeAreAChange) {
    const std::string body = "one\n";
    const std::string fed = cl_message(kFrom1, body, length_of(body)) + "not a From_ line\n";
    const std::string seen = cl_message(kFrom1, body, length_of(body)) + kFrom2.substr(0, 17);
    const mailbox::MboxSource source = source_of(seen);
    mailbox::MboxIndexer ix(true, static_cast<std::size_t>(-1), &source);
    const std::size_t body_start = fed.find("\n\n") + 2;
    ix.feed(fed.data(), body_start);  // the length's end is past this chunk: it is read from the source
    ix.feed(fed.data() + body_start, fed.size() - body_start);
    EXPECT_FALSE(ix.finish());
    EXPECT_TRUE(ix.changed());
}

namespace {

// Indexes `fed` in chunks of `chunk` while the look ahead reads `seen`.
bool index_disagreeing(const std::string& fed, const std::string& seen, std::size_t chunk,
                       std::size_t max_messages = static_cast<std::size_t>(-1), bool* changed = nullptr) {
    const mailbox::MboxSource source = source_of(seen);
    mailbox::MboxIndexer ix(true, max_messages, &source);
    for (std::size_t i = 0; i < fed.size() && !ix.full(); i += chunk)
        ix.feed(fed.data() + i, std::min(chunk, fed.size() - i));
    const bool ok = ix.finish();
    if (changed) *changed = ix.changed();
    return ok;
}

}  // namespace

// Found in review: each of these used to index "successfully", leaving a
// message that starts mid-line or bytes that belong to no message.
TEST(MboxIndexContentLength, EveryDisagreementBetweenLookAheadAndBytesIsAChange) {
    struct Case {
        std::string fed, seen;
        std::size_t max_messages;
    };
    const std::vector<Case> cases = {
        {"From a\nContent-Length: 6\n\nFrab\nxFrom z\nhi\n", "From a\nContent-Length: 6\n\nFrab\n\nFrom z\nhi\n", SIZE_MAX},
        {"From a\nContent-Length: 4\n\nabc\n\nabcd", "From a\nContent-Length: 4\n\nabc\nFrom ", SIZE_MAX},
        {"From a\nContent-Length: 4\n\nabc\nxx\nFrom b\n", "From a\nContent-Length: 4\n\nabc\nFrom b\nxx\n", 1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.fed);
        bool changed = false;
        EXPECT_FALSE(index_disagreeing(c.fed, c.seen, 1, c.max_messages, &changed));
        EXPECT_TRUE(changed);
    }
}

// A line that starts "Content-Length" but cannot be read (its colon past
// the 64 bytes looked at) still counts as a length: with two, both go.
TEST(MboxIndexContentLength, AnUnreadableLengthLineCountsAsOne) {
    const std::string mbox = kFrom1 + "Content-Length" + std::string(50, ' ') + ": 9\nContent-Length: 4\n\nabc\n" + kFrom2 +
                             "x\n";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 2u);
    EXPECT_FALSE(ix.messages[0].flags & mailbox::MessageEntry::kContentLength);
    for (const std::string other : {"Content-Lengthy: 4", "Content-Length-X: 4"}) {  // other fields
        const std::string m = kFrom1 + other + "\nContent-Length: 4\n\nabc\n" + kFrom2 + "x\n";
        EXPECT_TRUE(index_mbox(m).messages[0].flags & mailbox::MessageEntry::kContentLength) << other;
    }
}

// A length that reaches the end of a file that ends inside a From_ line (a
// delivery still being written) is not consistent: that line stays past
// the snapshot, for the next session, as without a length.
TEST(MboxIndexContentLength, TheEndOfAFileThatEndsInsideAFromLineIsNoBoundary) {
    const std::string head = kFrom1 + "Content-Length: 12\n\nhi\n\n";
    const std::string mbox = head + "From new";
    const Indexed ix = index_mbox(mbox);
    ASSERT_EQ(ix.messages.size(), 1u);
    EXPECT_FALSE(ix.messages[0].flags & mailbox::MessageEntry::kContentLength);
    EXPECT_EQ(ix.end, head.size());
    // Another last line without a newline: the end of the file is a boundary.
    const std::string body_end = kFrom1 + "Content-Length: 13\n\nhi\n\nFromage x";
    EXPECT_TRUE(index_mbox(body_end).messages[0].flags & mailbox::MessageEntry::kContentLength);
}
