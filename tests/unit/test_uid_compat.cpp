// The peers' ids computed from the message alone (issue 22). The expected
// values of the first tests are what the real servers answered
// (uid_compat_cases.hpp); the rule tests below pin the edge cases read in
// their sources (see the comments in uid_compat.cpp).
#include "mailbox/md5.hpp"
#include "mailbox/uid_compat.hpp"

#include "uid_compat_cases.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace pop3d::mailbox;
using namespace pop3d::mailbox::compat;

namespace {

std::string md5_hex(const std::string& s, std::size_t chunk = 0) {
    Md5 h;
    if (chunk == 0) {
        h.update(s.data(), s.size());
    } else {
        for (std::size_t i = 0; i < s.size(); i += chunk) h.update(s.data() + i, std::min(chunk, s.size() - i));
    }
    std::string out;
    for (auto b : h.finish()) {
        out.push_back("0123456789abcdef"[b >> 4]);
        out.push_back("0123456789abcdef"[b & 15]);
    }
    return out;
}

template <std::size_t N>
void expect_popa3d(const Case (&cases)[N]) {
    for (std::size_t i = 0; i < N; ++i) EXPECT_EQ(popa3d_uidl(cases[i].header), cases[i].id) << "message " << i + 1;
}

// The ids StampedIds gives a maildrop, "" where it gives none.
std::vector<std::string> walk(Stamper who, const std::vector<std::string>& headers) {
    std::vector<std::string> out;
    if (headers.empty()) return out;
    StampedIds ids(who, read_stamps(headers[0], who));
    for (const auto& h : headers) out.push_back(ids.next(read_stamps(h, who)).value_or(""));
    return out;
}

template <std::size_t N>
void expect_stamped(Stamper who, const Case (&cases)[N]) {
    std::vector<std::string> headers, want;
    for (const auto& c : cases) {
        headers.emplace_back(c.header);
        want.emplace_back(c.id);
    }
    EXPECT_EQ(walk(who, headers), want);
}

}  // namespace

TEST(Md5, Rfc1321Vectors) {
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
    EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
    EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
    const std::string digits = "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
    EXPECT_EQ(md5_hex(digits), "57edf4a22be3c955ac49da2e2107b67a");
    EXPECT_EQ(md5_hex(digits, 7), "57edf4a22be3c955ac49da2e2107b67a");  // fed in pieces
    EXPECT_EQ(md5_hex(std::string(56, 'x')), md5_hex(std::string(56, 'x'), 1));  // padding spills a block
}

TEST(UidCompatPopa3d, EqualsWhatPopa3dAnswered) {
    expect_popa3d(kPopa3dTricky);
    expect_popa3d(kPopa3dContentLength);
    expect_popa3d(kPopa3dPseudo);
}

TEST(UidCompatPopa3d, HashesOnlyItsFixedLines) {
    const std::string base = "Received: by a\nSubject: s\n\n";
    // Not hashed: other fields, the body, Date/Message-ID after Received,
    // a second Received, x-delivery-id with a lower-case x.
    EXPECT_EQ(popa3d_uidl("Received: by a\nSubject: other\nX-UIDL: z\nDate: d\nMessage-ID: <m>\n"
                          "Received: by b\nx-delivery-id: 1\n\nbody\n"),
              popa3d_uidl(base));
    // Hashed: Date before Received, X-Delivery-ID, Delivered-To anywhere,
    // a continuation of a hashed line, a lower-case received.
    EXPECT_NE(popa3d_uidl("Date: d\n" + base), popa3d_uidl(base));
    EXPECT_NE(popa3d_uidl("Received: by a\nX-Delivery-ID: 1\n\n"), popa3d_uidl(base));
    EXPECT_NE(popa3d_uidl("Received: by a\nDelivered-To: u\n\n"), popa3d_uidl(base));
    EXPECT_NE(popa3d_uidl("Received: by a\n\tfrom b\n\n"), popa3d_uidl(base));
    // received: in lower case is the first Received (hashed; a Date after it is not).
    EXPECT_NE(popa3d_uidl("received: by a\n\n"), "d98c1dd404b2008f");
    EXPECT_EQ(popa3d_uidl("received: by a\nDate: d\n\n"), popa3d_uidl("received: by a\n\n"));
    EXPECT_EQ(popa3d_uidl("Subject: nothing fixed\n\n"), "d98c1dd404b2008f");  // MD5 of ""
    // The header ends at the first "\n" line: what follows is not looked at.
    EXPECT_EQ(popa3d_uidl("Subject: s\n\nReceived: in the body\n"), "d98c1dd404b2008f");
    // The raw bytes count: a CR before the LF changes the id.
    EXPECT_NE(popa3d_uidl("Received: by a\r\n\n"), popa3d_uidl("Received: by a\n\n"));
}

TEST(UidCompatDovecot, EqualsWhatDovecotAnswered) {
    expect_stamped(Stamper::dovecot, kDovecotTricky);
    expect_stamped(Stamper::dovecot, kDovecotStamped);
    expect_stamped(Stamper::dovecot, kDovecotPseudo);
}

TEST(UidCompatUw, EqualsWhatUwAnswered) {
    expect_stamped(Stamper::uw, kUwTricky);
    expect_stamped(Stamper::uw, kUwStamped);
    expect_stamped(Stamper::uw, kUwPseudo);
}

TEST(UidCompatFormat, PeersOrderTheNumbersDifferently) {
    EXPECT_EQ(dovecot_uidl(1, 0x6b0da088), "000000016b0da088");
    EXPECT_EQ(uw_uidl(0x6b0da088, 1), "6b0da08800000001");
    EXPECT_EQ(dovecot_uidl(0xffffffffu, 0), "ffffffff00000000");
}

TEST(UidCompatStamps, NoValidityInMessageOneMeansNoPeerIds) {
    for (Stamper who : {Stamper::dovecot, Stamper::uw}) {
        EXPECT_EQ(walk(who, {"X-UID: 1\n\n", "X-IMAPbase: 5 9\nX-UID: 2\n\n"}), (std::vector<std::string>{"", ""}));
        EXPECT_FALSE(StampedIds(who, read_stamps("Subject: s\n\n", who)).usable());
    }
}

TEST(UidCompatStamps, XUidBeforeXImapbaseInMessageOneIsIgnored) {
    for (Stamper who : {Stamper::dovecot, Stamper::uw})
        EXPECT_EQ(walk(who, {"X-UID: 1\nX-IMAPbase: 10 2\n\n", "X-UID: 2\n\n"})[0], "");
}

// The maildrops of these tests went through the real Dovecot too: where
// its uid equals the X-UID, the X-UID was taken; elsewhere it gave its own
// next uid, and pop3d gives its own id (noted after each case).
TEST(UidCompatStamps, DovecotBoundsXUidByTheNextUid) {
    // uid_last 3: next is 4; 4 is taken (next becomes 5), 9 is not.
    // Dovecot: 1, 4, 5, 6.
    EXPECT_EQ(walk(Stamper::dovecot, {"X-IMAPbase: 16 0000000003\nX-UID: 1\n\n", "X-UID: 4\n\n", "X-UID: 9\n\n",
                                      "X-UID: 2\n\n"}),
              (std::vector<std::string>{"0000000100000010", "0000000400000010", "", ""}));
    // An unstamped message takes the next uid in Dovecot's count, so the
    // X-UIDs after it no longer exceed the previous uid. Dovecot: 1, 3, 4, 5.
    EXPECT_EQ(walk(Stamper::dovecot, {"X-IMAPbase: 16 2\nX-UID: 1\n\n", "Subject: new\n\n", "X-UID: 3\n\n",
                                      "X-UID: 4\n\n"}),
              (std::vector<std::string>{"0000000100000010", "", "", ""}));
    // Names in lower case count; "12x" does not. Dovecot: 1, 2 (validity 7).
    EXPECT_EQ(walk(Stamper::dovecot, {"x-imapbase: 7 1\nx-uid: 1\n\n", "X-UID: 12x\n\n"}),
              (std::vector<std::string>{"0000000100000007", ""}));
    // No uid_last: next is 1. Dovecot: 1, 2, 3 (validity 17).
    EXPECT_EQ(walk(Stamper::dovecot, {"X-IMAPbase: 17\nX-UID: 1\n\n", "X-UID: 2\n\n", "X-UID: 5\n\n"}),
              (std::vector<std::string>{"0000000100000011", "0000000200000011", ""}));
    // Two spaces after the colons: the validity is not read. Dovecot: a new one.
    EXPECT_EQ(walk(Stamper::dovecot, {"X-IMAPbase:  17 3\nX-UID: 1\n\n", "X-UID: 2\n\n"}),
              (std::vector<std::string>{"", ""}));
    // A space before the colon, a tab after it: taken; two spaces: not.
    // Dovecot: 2, 4, 6 (validity 17).
    EXPECT_EQ(walk(Stamper::dovecot, {"X-IMAPbase: 17 5\nX-UID : 2\n\n", "X-UID:\t4\n\n", "X-UID:  5\n\n"}),
              (std::vector<std::string>{"0000000200000011", "0000000400000011", ""}));
    // X-UID before X-IMAPbase in message 1. Dovecot: 3, 4 (validity 10).
    EXPECT_EQ(walk(Stamper::dovecot, {"X-UID: 1\nX-IMAPbase: 10 2\n\n", "X-UID: 2\n\n"}),
              (std::vector<std::string>{"", ""}));
}

// c-client keeps any growing X-UID; one that does not grow makes it start a
// new validity (all ids change), which a file UW last wrote never shows.
TEST(UidCompatStamps, UwTakesAnyGrowingXUid) {
    EXPECT_EQ(walk(Stamper::uw, {"X-IMAPbase: 16 3\nX-UID: 1\n\n", "X-UID: 900\n\n", "X-UID: 5\n\n", "Subject: s\n\n",
                                 "X-UID: 901\n\n"}),
              (std::vector<std::string>{"0000001000000001", "0000001000000384", "", "", "0000001000000385"}));
    // Spaces after the colons are skipped. UW: 0000001100000001, 0000001100000002.
    EXPECT_EQ(walk(Stamper::uw, {"X-IMAPbase:   17   3\nX-UID:   1  \n\n", "X-UID: 2\n\n"}),
              (std::vector<std::string>{"0000001100000001", "0000001100000002"}));
}

TEST(UidCompatStamps, FieldNamesAndValuesAsEachPeerParsesThem) {
    // Dovecot matches names case-insensitively, c-client exactly.
    EXPECT_TRUE(read_stamps("x-imapbase: 7 1\nx-uid: 1\n\n", Stamper::dovecot).uid.has_value());
    EXPECT_FALSE(read_stamps("x-imapbase: 7 1\n\n", Stamper::uw).base.has_value());
    EXPECT_FALSE(read_stamps("x-uid: 1\n\n", Stamper::uw).has_uid);
    // Trailing padding is fine; other trailing text only for c-client.
    EXPECT_EQ(read_stamps("X-UID: 12      \n\n", Stamper::dovecot).uid, 12u);
    EXPECT_FALSE(read_stamps("X-UID: 12x\n\n", Stamper::dovecot).uid.has_value());
    EXPECT_EQ(read_stamps("X-UID: 12x\n\n", Stamper::uw).uid, 12u);
    // Dovecot takes one blank after the colon and a space before it; c-client
    // any spaces after the colon and none before it.
    EXPECT_FALSE(read_stamps("X-UID:   1\n\n", Stamper::dovecot).uid.has_value());
    EXPECT_EQ(read_stamps("X-UID:   1\n\n", Stamper::uw).uid, 1u);
    EXPECT_EQ(read_stamps("X-UID :\t5\n\n", Stamper::dovecot).uid, 5u);
    EXPECT_FALSE(read_stamps("X-UID : 5\n\n", Stamper::uw).has_uid);
    // No uid_last: Dovecot takes 0, c-client nothing.
    ASSERT_TRUE(read_stamps("X-IMAPbase: 17\n\n", Stamper::dovecot).base.has_value());
    EXPECT_EQ(read_stamps("X-IMAPbase: 17\n\n", Stamper::dovecot).base->uid_last, 0u);
    EXPECT_FALSE(read_stamps("X-IMAPbase: 17\n\n", Stamper::uw).base.has_value());
    // Validity 0, a tab after it, or more than 32 bits: no base.
    for (Stamper who : {Stamper::dovecot, Stamper::uw}) {
        EXPECT_FALSE(read_stamps("X-IMAPbase: 0 5\n\n", who).base.has_value());
        EXPECT_FALSE(read_stamps("X-IMAPbase: 17\t3\n\n", who).base.has_value());
        EXPECT_FALSE(read_stamps("X-IMAPbase: 4294967296 5\n\n", who).base.has_value());
        const Stamps s = read_stamps("X-IMAPbase: 1796055494 9 $Junk\n\n", who);
        ASSERT_TRUE(s.base.has_value());
        EXPECT_EQ(s.base->validity, 1796055494u);
        EXPECT_EQ(s.base->uid_last, 9u);
        EXPECT_FALSE(s.pseudo);
        EXPECT_TRUE(read_stamps("X-IMAP: 1764496840 0000000007\n\n", who).pseudo);
    }
    // Only the header counts: stamps in the body are not read.
    EXPECT_FALSE(read_stamps("Subject: s\n\nX-UID: 3\n", Stamper::dovecot).has_uid);
}

namespace {

// The ids PeerIds gives the messages of `cases` stored as an mbox would
// hold them (a From_ line, the header, a body), fed in chunks of `chunk`.
template <std::size_t N>
std::vector<std::string> peer_ids(const Options& options, const Case (&cases)[N], std::size_t chunk,
                                  const std::string& from_line = "From a@example.org Mon Nov 30 10:00:00 2026\n") {
    PeerIds ids(options);
    std::vector<std::string> out;
    for (const Case& c : cases) {
        const std::string message = from_line + c.header + "Received: in the body\nX-UID: 99\nbody\n";
        ids.begin();
        for (std::size_t i = 0; i < message.size(); i += chunk)
            ids.feed(message.data() + i, std::min(chunk, message.size() - i));
        out.push_back(ids.finish().value_or(""));
    }
    return out;
}

template <std::size_t N>
std::vector<std::string> recorded_ids(const Case (&cases)[N]) {
    std::vector<std::string> out;
    for (const Case& c : cases) out.emplace_back(c.id);
    return out;
}

}  // namespace

// What the maildrop gives each message, fed as its bytes come from the file
// (any chunking), equals what the real peers answered.
TEST(PeerIds, EqualWhatThePeersAnsweredFedInAnyChunks) {
    for (const std::size_t chunk : {1, 2, 3, 7, 13, 64, 100000}) {
        EXPECT_EQ(peer_ids(Options{.peer = Peer::popa3d}, kPopa3dTricky, chunk), recorded_ids(kPopa3dTricky)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::popa3d}, kPopa3dContentLength, chunk), recorded_ids(kPopa3dContentLength)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::dovecot}, kDovecotTricky, chunk), recorded_ids(kDovecotTricky)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::dovecot}, kDovecotStamped, chunk), recorded_ids(kDovecotStamped)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::dovecot}, kDovecotPseudo, chunk), recorded_ids(kDovecotPseudo)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::uw}, kUwTricky, chunk), recorded_ids(kUwTricky)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::uw}, kUwStamped, chunk), recorded_ids(kUwStamped)) << chunk;
        EXPECT_EQ(peer_ids(Options{.peer = Peer::uw}, kUwPseudo, chunk), recorded_ids(kUwPseudo)) << chunk;
    }
}

TEST(PeerIds, NoneGivesNothing) {
    for (const std::string& id : peer_ids(Options{.peer = Peer::none}, kDovecotTricky, 5)) EXPECT_EQ(id, "");
}

// popa3d left nothing in the file: uidl_compat_until tells old mail from new
// by the From_ line's date (local time, as the MDA wrote it).
TEST(PeerIds, Popa3dIdsEndAtTheSwitchTime) {
    const Options until{.peer = Peer::popa3d, .until = pop3d::parse_civil_time("2026-11-30 10:00")};
    const auto want = recorded_ids(kPopa3dTricky);
    EXPECT_EQ(peer_ids(until, kPopa3dTricky, 7, "From a@x  Mon Nov 30 09:59:59 2026\n"), want);
    EXPECT_EQ(peer_ids(until, kPopa3dTricky, 7, "From a@x Mon Nov 30 10:00:00 2026\n"), want);  // at the switch: old
    for (const std::string& id : peer_ids(until, kPopa3dTricky, 7, "From a@x Mon Nov 30 10:00:01 2026\n"))
        EXPECT_EQ(id, "");
    for (const std::string& id : peer_ids(until, kPopa3dTricky, 7, "From a@x no date at all\n")) EXPECT_EQ(id, "");
    EXPECT_EQ(peer_ids(until, kPopa3dTricky, 7, "From a b@x Tue Nov 3 8:05 2026\n").size(), want.size());
}

TEST(PeerIds, AHeaderTooBigForAnyRealMailGetsNoPeerId) {
    const std::string huge = "Received: " + std::string(70000, 'x') + "\n\n";
    const Case cases[] = {{huge.c_str(), ""}};
    EXPECT_EQ(peer_ids(Options{.peer = Peer::popa3d}, cases, 4096), std::vector<std::string>{""});
}

TEST(CivilTime, ParsesWhatAdminsWriteAndFromLines) {
    using pop3d::CivilTime;
    EXPECT_EQ(pop3d::parse_civil_time("2026-12-01"), (CivilTime{2026, 12, 1, 0, 0, 0}));
    EXPECT_EQ(pop3d::parse_civil_time("2026-12-01 08:30"), (CivilTime{2026, 12, 1, 8, 30, 0}));
    EXPECT_EQ(pop3d::parse_civil_time("2026-12-01 08:30:15"), (CivilTime{2026, 12, 1, 8, 30, 15}));
    for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-12-1", "2026-12-01T08:30", "2026-12-01 8:30",
                            "2026-12-01 08:30:15x", "yesterday"})
        EXPECT_FALSE(pop3d::parse_civil_time(bad)) << bad;
    EXPECT_EQ(pop3d::from_line_time("From a@x Thu Nov 26 10:00:00 2026\n"), (CivilTime{2026, 11, 26, 10, 0, 0}));
    EXPECT_EQ(pop3d::from_line_time("From a@x  Thu Nov  3 09:05 2026"), (CivilTime{2026, 11, 3, 9, 5, 0}));
    EXPECT_EQ(pop3d::from_line_time("From a@x Thu Nov 26 10:00:00 +0100 2026 remote from y\r\n"),
              (CivilTime{2026, 11, 26, 10, 0, 0}));
    EXPECT_EQ(pop3d::from_line_time("From \"Nov 12\"@x Thu Nov 26 10:00:00 2026"), (CivilTime{2026, 11, 26, 10, 0, 0}));
    EXPECT_FALSE(pop3d::from_line_time("From a@x"));
    EXPECT_FALSE(pop3d::from_line_time("From a@x Thu Nov 31 10:00:00 2026"));
}

// The id is known when the header ends: the caller can skip hashing the body.
TEST(PeerIds, TheIdIsKnownWhenTheHeaderEnds) {
    PeerIds ids(Options{.peer = Peer::popa3d});
    ids.begin();
    const std::string head = "From a@x Mon Nov 30 10:00:00 2026\nReceived: by mx\nSubject: s\n";
    ids.feed(head.data(), head.size());
    EXPECT_FALSE(ids.has_id());
    ids.feed("\nbody", 5);
    EXPECT_TRUE(ids.has_id());
    EXPECT_EQ(ids.finish(), popa3d_uidl("Received: by mx\n\n"));
    PeerIds none(Options{.peer = Peer::none});
    none.begin();
    none.feed((head + "\nbody\n").data(), head.size() + 6);
    EXPECT_FALSE(none.has_id());
}
