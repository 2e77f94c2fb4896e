// UIDs: derived from the bytes, blind to headers MUAs rewrite, X-UIDL kept,
// unique within the maildrop, stable across sessions and expunges.
#include "mailbox/uid.hpp"
#include "mbox_helpers.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace pop3d;
using namespace pop3d::testing;

namespace {

std::vector<std::string> uids_of(const std::string& mbox, std::size_t chunk = 1 << 20) {
    Indexed ix = index_mbox(mbox);
    EXPECT_TRUE(ix.ok);
    mailbox::UidOverrides overrides;
    for (std::uint32_t i = 0; i < ix.messages.size(); ++i) {
        auto& m = ix.messages[i];
        mailbox::UidHasher h;
        h.begin();
        const std::string bytes = mbox.substr(m.from_offset, m.content_end - m.from_offset);
        for (std::size_t k = 0; k < bytes.size(); k += chunk) h.feed(bytes.data() + k, std::min(chunk, bytes.size() - k));
        std::string o;
        EXPECT_TRUE(h.finish(m, o));
        if (!o.empty()) overrides[i] = o;
    }
    mailbox::make_uids_unique(ix.messages, overrides);
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < ix.messages.size(); ++i) out.push_back(mailbox::render_uid(ix.messages[i], overrides, i));
    return out;
}

const std::string kA = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\nMessage-ID: <1@x>\n\nbody a\n\n";
const std::string kB = "From b@x Thu Nov 26 10:00:01 2026\nSubject: b\n\nbody b\n\n";
const std::string kC = "From c@x Thu Nov 26 10:00:02 2026\nSubject: c\n\nbody c\n\n";

}  // namespace

TEST(Uid, FormatIsThirtyTwoHexDigits) {
    for (const std::string& u : uids_of(kA + kB)) {
        EXPECT_EQ(u.size(), 32u);
        EXPECT_TRUE(mailbox::valid_uid(u));
        EXPECT_EQ(u.find_first_not_of("0123456789abcdef"), std::string::npos);
    }
}

TEST(Uid, StableAcrossSessionsAndChunking) {
    const std::string mbox = kA + kB + kC;
    const auto first = uids_of(mbox);
    EXPECT_EQ(uids_of(mbox), first);
    for (std::size_t chunk : {1, 2, 5, 17}) {
        EXPECT_EQ(uids_of(mbox, chunk), first) << chunk;
    }
}

TEST(Uid, SurvivingMessagesKeepTheirUidsAfterAnExpunge) {
    const auto before = uids_of(kA + kB + kC);
    const auto after = uids_of(kA + kC);  // kB deleted
    EXPECT_EQ(after[0], before[0]);
    EXPECT_EQ(after[1], before[2]);
}

TEST(Uid, NewMailDoesNotChangeOldUids) {
    const auto before = uids_of(kA + kB);
    const auto after = uids_of(kA + kB + kC);
    EXPECT_EQ(after[0], before[0]);
    EXPECT_EQ(after[1], before[1]);
}

TEST(Uid, HeadersThatMuasRewriteDoNotChangeTheUid) {
    const std::string plain = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nbody\n";
    const std::string touched = "From a@x Thu Nov 26 10:00:00 2026\nStatus: RO\nSubject: a\nX-Status: A\n"
                                "X-Keywords: $x\nX-UID: 7\nX-IMAP: 1 2\nX-IMAPbase: 1 2\nContent-Length: 5\n"
                                "lines: 1\n\nbody\n";
    EXPECT_EQ(uids_of(plain), uids_of(touched));
}

TEST(Uid, FoldedVolatileHeaderIsIgnoredWhole) {
    const std::string plain = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nbody\n";
    const std::string folded = "From a@x Thu Nov 26 10:00:00 2026\nX-Keywords: one\n two\nSubject: a\n\nbody\n";
    EXPECT_EQ(uids_of(plain), uids_of(folded));
}

TEST(Uid, OtherHeadersAndBodyChangeTheUid) {
    const std::string a = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nbody\n";
    EXPECT_NE(uids_of(a), uids_of("From a@x Thu Nov 26 10:00:00 2026\nSubject: b\n\nbody\n"));
    EXPECT_NE(uids_of(a), uids_of("From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nbodY\n"));
    EXPECT_NE(uids_of(a), uids_of("From a@x Thu Nov 26 10:00:09 2026\nSubject: a\n\nbody\n"));
    // A header that merely starts like a volatile one still counts.
    EXPECT_NE(uids_of(a), uids_of("From a@x Thu Nov 26 10:00:00 2026\nStatusX: 1\nSubject: a\n\nbody\n"));
}

TEST(Uid, VolatileHeaderNamesInTheBodyStillCount) {
    const std::string a = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nStatus: 1\n";
    const std::string b = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nStatus: 2\n";
    EXPECT_NE(uids_of(a), uids_of(b));
}

TEST(Uid, ByteIdenticalMessagesGetDistinctStableUids) {
    const std::string mbox = kA + kA + kB + kA;
    const auto u = uids_of(mbox);
    EXPECT_EQ(std::set<std::string>(u.begin(), u.end()).size(), 4u);
    EXPECT_EQ(u[1], u[0] + ".2");
    EXPECT_EQ(u[3], u[0] + ".3");
    EXPECT_EQ(uids_of(mbox), u);
}

TEST(Uid, XuidlHeaderIsKept) {
    const std::string m = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: 3b2f4c9a17d0e6f1\nSubject: a\n\nbody\n";
    EXPECT_EQ(uids_of(m)[0], "3b2f4c9a17d0e6f1");
    const std::string crlf = "From a@x Thu Nov 26 10:00:00 2026\r\nx-uidl:   GmailId1234  \r\n\r\nbody\r\n";
    EXPECT_EQ(uids_of(crlf)[0], "GmailId1234");
}

TEST(Uid, InvalidXuidlIsIgnored) {
    const std::string too_long = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: " + std::string(71, 'u') + "\n\nb\n";
    EXPECT_EQ(uids_of(too_long)[0].size(), 32u);
    const std::string spaced = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: a b\n\nb\n";
    EXPECT_EQ(uids_of(spaced)[0].size(), 32u);
    const std::string eightbit = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: caf\xc3\xa9\n\nb\n";
    EXPECT_EQ(uids_of(eightbit)[0].size(), 32u);
    const std::string in_body = "From a@x Thu Nov 26 10:00:00 2026\nSubject: x\n\nX-UIDL: abc\n";
    EXPECT_EQ(uids_of(in_body)[0].size(), 32u);
}

TEST(Uid, DuplicateXuidlValuesAreMadeUnique) {
    const std::string m1 = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: same\n\none\n\n";
    const std::string m2 = "From b@x Thu Nov 26 10:00:01 2026\nX-UIDL: same\n\ntwo\n\n";
    const std::string m3 = "From c@x Thu Nov 26 10:00:02 2026\nX-UIDL: same.2\n\nthree\n\n";
    const auto u = uids_of(m1 + m2 + m3);
    EXPECT_EQ(u[0], "same");
    EXPECT_EQ(u[1], "same.2");
    EXPECT_EQ(u[2], "same.2.2");
    EXPECT_EQ(std::set<std::string>(u.begin(), u.end()).size(), 3u);
}

TEST(Uid, SuffixedLongXuidlStaysWithinSeventyCharacters) {
    const std::string v(70, 'z');
    const std::string m = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: " + v + "\n\nx\n\n";
    const auto u = uids_of(m + m);
    EXPECT_EQ(u[0], v);
    EXPECT_EQ(u[1].size(), 70u);
    EXPECT_TRUE(mailbox::valid_uid(u[1]));
    EXPECT_NE(u[0], u[1]);
}

TEST(Uid, ChangedMailboxIsDetected) {
    mailbox::MessageEntry e;
    mailbox::UidHasher h;
    h.begin();
    h.feed("Xrom a\n\nb\n", 10);
    std::string o;
    EXPECT_FALSE(h.finish(e, o));
}

namespace {

// The UID rule by hand: the first 128 bits of SHA-256 over the bytes (for a
// message without volatile headers), in hex.
std::string sha_uid(const std::string& bytes) {
    mailbox::Sha256 sha;
    sha.update(bytes.data(), bytes.size());
    const auto d = sha.finish();
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < 16; ++i) {
        s += digits[d[i] >> 4];
        s += digits[d[i] & 15];
    }
    return s;
}

}  // namespace

TEST(Uid, MessageEndingInANewlineHashesItsBytes) {
    const std::string m = "From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nlast line\n";
    EXPECT_EQ(uids_of(m)[0], sha_uid(m));
    EXPECT_EQ(uids_of(m + "\n" + kB)[0], sha_uid(m));  // the separator line is not the message's
}

TEST(Uid, LastMessageKeepsItsUidWhenTheNextDeliveryEndsItsLastLine) {
    // An MDA that finds no final newline writes one before the next From_
    // line (and a blank separator line or not): the message gains that LF.
    const std::string next = "From b@x Thu Nov 26 10:00:01 2026\nSubject: b\n\nbody b\n";
    for (const std::string& m : {
             std::string("From a@x Thu Nov 26 10:00:00 2026\nSubject: a\n\nlast line"),
             std::string("From a@x Thu Nov 26 10:00:00 2026\r\nSubject: a\r\n\r\nlast line\r"),  // CRLF, LF to come
             std::string("From a@x Thu Nov 26 10:00:00 2026\nSubject: a"),                       // ends in the header
             std::string("From a@x Thu Nov 26 10:00:00 2026\nStatus: RO"),                       // in a volatile one
             std::string("From a@x Thu Nov 26 10:00:00 2026\nSubject: a\nX-Status"),            // in a field name
             std::string("From a@x Thu Nov 26 10:00:00 2026\n"),                                 // no content at all
         }) {
        const std::string u = uids_of(m)[0];
        const std::string ended = m.back() == '\n' ? m : m + "\n";  // as the MDA leaves it
        if (m.find("Status:") == std::string::npos) {
            EXPECT_EQ(u, sha_uid(ended)) << m;
        }
        EXPECT_EQ(uids_of(ended)[0], u) << m;
        EXPECT_EQ(uids_of(ended + next)[0], u) << m;
        EXPECT_EQ(uids_of(ended + "\n" + next)[0], u) << m;  // with a blank separator line
        for (std::size_t chunk : {1, 3}) EXPECT_EQ(uids_of(m, chunk)[0], u) << m;
    }
}

TEST(Uid, XuidlOnALastLineWithoutNewlineIsKeptTheSame) {
    const std::string m = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: 3b2f4c9a";
    EXPECT_EQ(uids_of(m)[0], "3b2f4c9a");
    EXPECT_EQ(uids_of(m + "\n\n" + kB)[0], "3b2f4c9a");
    // Cut inside a folded X-UIDL: not an id, and hashed as it will be.
    const std::string folded = "From a@x Thu Nov 26 10:00:00 2026\nX-UIDL: 3b2f\n 4c9a";
    EXPECT_EQ(uids_of(folded)[0].size(), 32u);
    EXPECT_EQ(uids_of(folded + "\n" + kB)[0], uids_of(folded)[0]);
}

// The ids a client has stored must never change: these were computed by
// pop3d 0.1's code and are pinned here for good (README, "Upgrading"). If
// this test fails, the id function changed and every "leave on server"
// client would fetch its whole mailbox again.
TEST(Uid, IdsArePinnedForever) {
    const std::string mbox =
        kA + kB +
        "From c@x Thu Nov 26 10:00:02 2026\r\nStatus: RO\r\nX-Keywords: $x\r\nSubject: crlf\r\n\r\nline\r\n>From quoted\r\n\r\n" +
        "From d@x Thu Nov 26 10:00:03 2026\nX-UIDL: qpopper-id-1\nSubject: d\n\nbody d\n\n" +
        "From e@x Thu Nov 26 10:00:04 2026\nX-UIDL: folded\n  value\nContent-Length: 7\nA-very-long-header-name-longer-than-32: v\nno colon here\n\nbody e\n\n" +
        kA + kB +
        "From f@x Thu Nov 26 10:00:05 2026\nX-UIDL: qpopper-id-1\n\nsame X-UIDL\n\n" +
        "From g@x Thu Nov 26 10:00:06 2026\nSubject: g\n\nno final newline";
    const std::vector<std::string> pinned = {
        "abc90a88c1818fa4c8dcffb8de57bb1d",
        "bdc7fbed984389f53b501bf7b37cc1dc",
        "dcbb54808c2ca814e995b81fbdd79b26",
        "qpopper-id-1",
        "fada68099c46e911124d6fa92cbbca70",
        "abc90a88c1818fa4c8dcffb8de57bb1d.2",
        "bdc7fbed984389f53b501bf7b37cc1dc.2",
        "qpopper-id-1.2",
        "61c0f850bd523b7d3968044fdb2b36ca",
    };
    EXPECT_EQ(uids_of(mbox), pinned);
    EXPECT_EQ(uids_of(mbox, 3), pinned);
}
