// The UID hasher's fast paths (whole header lines at once, messages queued
// and hashed two at a time, large messages hashed as they come) give the
// ids of the byte-by-byte reading, which are fixed forever.
#include "mailbox/uid.hpp"
#include "mailbox/uid_scan.hpp"

#include "digest_helpers.hpp"
#include "mbox_maildrop_fixture.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>

using namespace pop3d;
using namespace pop3d::testing;

namespace {

// Headers that take every branch: volatile names in any case and with
// blanks before the colon, folded fields, X-UIDL folded, repeated or too
// long, names of 31 to 33 bytes, lines without a colon, "\r\n" ending the
// header, a last line without LF. The digests are those the code before
// the fast paths gave.
const std::vector<std::pair<std::string, std::string>> kTricky = {
    {"From a@x Thu Nov 26 10:00:00 2026\nStatus: RO\nSubject: s\n\nbody\n", "ec1222b9f9f7cdb51bca8b68d98a1032"},
    {"From b@x Thu Nov 26 10:00:00 2026\r\nSTATUS \t: RO\r\n folded status\r\nX-UIDL: abc\r\n\r\nbody\r\n",
     "6aba5d5f0162ac9376c14dc9c9eba1c4"},
    {"From c@x Thu Nov 26 10:00:00 2026\nX-UIDL: one\n folded\nX-UIDL: two\nLines: 3\n\nx\n",
     "ef574b5efc1370b9a8beb9b99de3e5a6"},
    {"From d@x Thu Nov 26 10:00:00 2026\n" + std::string(32, 'A') + ": v\n" + std::string(33, 'B') + ":v\n" +
         std::string(31, 'C') + "\nno colon here\n\r\nStatus: in body\n",
     "b0b9085e83afe604a0ae722bb414849a"},
    {"From e@x Thu Nov 26 10:00:00 2026\nX-UIDL:" + std::string(300, 'v') + "\nContent-Length: 5\n\nabcde\n",
     "a1b65310b58fb8216f650796aeea8053"},
    {"From f@x Thu Nov 26 10:00:00 2026\n\tleading continuation\nX-Keywords: $x\nx-imapbase: 1 2\nSubject: last line "
     "without newline",
     "a4194dcde50a665681428f5f43c8f45c"},
    {"From g@x Thu Nov 26 10:00:00 2026\nSubject: headers only, no body\nX-UID: 7\n", "8fb29a7186b14d16b4cd7b5c18a39203"},
};

std::string hex16(const std::array<std::uint8_t, 16>& d) { return pop3d::testing::hex(d); }

// The digest and X-UIDL value of one message fed in pieces of `step` bytes.
std::pair<std::string, std::string> hash_message(const std::string& m, std::size_t step) {
    mailbox::UidHasher h;
    h.begin();
    for (std::size_t k = 0; k < m.size(); k += step) h.feed(m.data() + k, std::min(step, m.size() - k));
    mailbox::MessageEntry e;
    std::string o;
    EXPECT_TRUE(h.finish(e, o));
    return {hex16(e.digest), o};
}

}  // namespace

TEST(UidPaths, TrickyHeadersKeepTheirDigestsWhateverTheSplit) {
    for (const auto& [msg, digest] : kTricky)
        for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{33}, msg.size()})
            EXPECT_EQ(hash_message(msg, step).first, digest) << step << "\n" << msg;
    EXPECT_EQ(hash_message(kTricky[1].first, 1).second, "abc");
    EXPECT_EQ(hash_message(kTricky[1].first, 1000).second, "abc");
}

// load_uids() (batches, lanes, large messages, lines cut by the read
// chunks) against each message hashed alone, byte by byte.
class UidPathsMaildrop : public MboxMaildropTest {};

TEST_F(UidPathsMaildrop, IdsEqualThoseOfOneMessageAtATime) {
    std::string mbox;
    std::vector<std::string> msgs;
    std::uint32_t x = 1;
    for (int i = 0; i < 1500; ++i) {
        x = x * 1103515245 + 12345;
        std::string m = kTricky[x % kTricky.size()].first;
        if (m.back() != '\n') m += "\n";
        if (i % 2 == 1)  // hashed instead of taken from X-UIDL
            for (std::size_t at; (at = m.find("X-UIDL")) != std::string::npos;) m.replace(at, 6, "X-Other");
        m += "X-Pad: " + std::string(x % 3000, 'p') + "\n";  // some in the body, some (no body) in the header
        if (i % 500 == 7) m += std::string(mailbox::Sha256Lanes::kMaxQueuedPerMessage + x % 999, 'L') + "\n";
        msgs.push_back(m);
        mbox += m + "\n";
    }
    write_file(mbox);
    auto md = open_ok();
    ASSERT_TRUE(md);
    ASSERT_EQ(md->count(), msgs.size());
    Indexed ix = index_mbox(mbox);
    mailbox::UidOverrides overrides;
    for (std::uint32_t i = 0; i < msgs.size(); ++i) {
        mailbox::UidHasher h;
        h.begin();
        auto& e = ix.messages[i];
        for (std::uint64_t k = e.from_offset; k < e.content_end; ++k) h.feed(mbox.data() + k, 1);
        std::string o;
        ASSERT_TRUE(h.finish(e, o));
        if (!o.empty()) overrides[i] = o;
    }
    mailbox::make_uids_unique(ix.messages, overrides);
    const std::vector<std::string> got = uids(*md);
    for (std::uint32_t i = 0; i < msgs.size(); ++i)
        ASSERT_EQ(got[i], mailbox::render_uid(ix.messages[i], overrides, i)) << i;
}

namespace {

// A mailbox of n messages of every kind, with its index.
std::string varied_mbox(int n) {
    std::string mbox;
    std::uint32_t x = 3;
    for (int i = 0; i < n; ++i) {
        x = x * 1103515245 + 12345;
        std::string m = kTricky[x % kTricky.size()].first;
        if (m.back() != '\n') m += "\n";
        m += "X-Pad: " + std::string(x % 2000, 'q') + "\n\n";
        mbox += m;
    }
    return mbox;
}

struct Digests {
    bool ok = false;
    std::vector<std::string> digests;
    std::map<std::uint32_t, std::string> overrides;
};

Digests digests_of(const std::string& path, const std::string& indexed_text, std::uint64_t helper_bytes) {
    Indexed ix = index_mbox(indexed_text);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    mailbox::UidOverrides overrides;
    Digests d;
    d.ok = helper_bytes == 0 ? mailbox::compute_all_uid_digests(fd, ix.messages, ix.end, overrides, 0)
                             : mailbox::compute_uid_digests(fd, ix.messages, 0, ix.end, overrides);
    ::close(fd);
    for (const auto& e : ix.messages) d.digests.push_back(hex16(e.digest));
    d.overrides.insert(overrides.begin(), overrides.end());
    return d;
}

}  // namespace

// The helper thread's half gives what one thread gives; whichever half a
// message that is not where the index has it falls in, the mailbox is changed.
TEST_F(UidPathsMaildrop, HelperThreadGivesTheSameDigests) {
    for (int n : {2, 3, 10, 400}) {
        const std::string mbox = varied_mbox(n);
        write_file(mbox);
        const Digests one = digests_of(path, mbox, 1);
        const Digests two = digests_of(path, mbox, 0);
        ASSERT_TRUE(one.ok);
        EXPECT_TRUE(two.ok);
        EXPECT_EQ(one.digests, two.digests) << n;
        EXPECT_EQ(one.overrides, two.overrides) << n;
        EXPECT_TRUE(n < 10 || !one.overrides.empty());
    }
}

TEST_F(UidPathsMaildrop, ChangedMailboxIsSeenInEitherHalf) {
    const std::string mbox = varied_mbox(400);
    const Indexed ix = index_mbox(mbox);
    for (std::size_t victim : {std::size_t{1}, std::size_t{150}, std::size_t{260}, std::size_t{399}}) {
        std::string changed = mbox;
        changed[ix.messages[victim].from_offset] = 'X';  // no From_ line there any more
        write_file(changed);
        EXPECT_FALSE(digests_of(path, mbox, 0).ok) << victim;
        EXPECT_FALSE(digests_of(path, mbox, 1).ok) << victim;
    }
    write_file(mbox.substr(0, mbox.size() - 1));  // cut short since the index
    EXPECT_FALSE(digests_of(path, mbox, 0).ok);
}
