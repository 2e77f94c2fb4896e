// The saved index (index_cache.*): a session that starts from it must see
// exactly what a session that indexes the whole file sees (messages, sizes,
// ids, bytes sent), whatever happened to the mailbox in between: nothing,
// mail appended, a rewrite in place of the same length, a damaged or
// foreign index file, other options.
#include "mailbox/index_cache.hpp"
#include "mbox_maildrop_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace pop3d;
using namespace pop3d::testing;
namespace fs = std::filesystem;
using IndexedFrom = mailbox::MboxMaildrop::IndexedFrom;

namespace {

class IndexCacheTest : public MboxMaildropTest {
protected:
    void SetUp() override {
        MboxMaildropTest::SetUp();
        cache_dir = dir + "/cache";
        ASSERT_EQ(::mkdir(cache_dir.c_str(), 0700), 0);
    }
    std::unique_ptr<mailbox::IndexCache> cache() {
        mailbox::Result r;
        auto c = mailbox::IndexCache::open(cache_dir, path, r);
        EXPECT_TRUE(c) << r.detail;
        return c;
    }
    std::string cache_file() { return cache_dir + "/" + mailbox::IndexCache::file_name(path); }
    std::unique_ptr<mailbox::MboxMaildrop> open_cached(const mailbox::MboxOptions& o) {
        mailbox::Result r;
        auto md = mailbox::MboxMaildrop::open(o, r, cache());
        EXPECT_TRUE(r.ok()) << r.detail;
        return md;
    }
    std::unique_ptr<mailbox::MboxMaildrop> open_cached() { return open_cached(options()); }
    void append(const std::string& bytes) { std::ofstream(path, std::ios::binary | std::ios::app) << bytes; }

    // What a client sees: count, sizes, ids and the bytes of every message.
    struct View {
        std::vector<std::uint64_t> sizes;
        std::vector<std::string> ids;
        std::vector<std::string> bodies;
        bool operator==(const View&) const = default;
    };
    View view(mailbox::MboxMaildrop& md, bool ids = true) {
        View v;
        if (ids) v.ids = uids(md);
        for (std::size_t i = 0; i < md.count(); ++i) {
            v.sizes.push_back(md.size(i));
            v.bodies.push_back(retr(md, i));
        }
        return v;
    }
    View fresh_view(const mailbox::MboxOptions& o) {
        mailbox::Result r;
        auto md = mailbox::MboxMaildrop::open(o, r);
        EXPECT_TRUE(md && r.ok()) << r.detail;
        return md ? view(*md) : View{};
    }

    std::string cache_dir;
};

TEST_F(IndexCacheTest, SecondSessionUsesTheSavedIndexAndIdsUnchanged) {
    write_file(kM1 + kM2 + kM3);
    View first;
    {
        auto md = open_cached();
        EXPECT_EQ(md->indexed_from(), IndexedFrom::file);
        first = view(*md);
    }
    struct stat st {};
    ASSERT_EQ(::stat(cache_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::saved);
    EXPECT_EQ(view(*md), first);
    EXPECT_EQ(view(*md), fresh_view(options()));
}

TEST_F(IndexCacheTest, AppendedMailIsIndexedOnAndOldIdsStay) {
    write_file(kM1 + kM2);
    View before;
    {
        auto md = open_cached();
        before = view(*md);
    }
    append(kM3 + kM4);
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::saved_and_appended);
    const View after = view(*md);
    ASSERT_EQ(after.ids.size(), 4u);
    EXPECT_EQ(after.ids[0], before.ids[0]);
    EXPECT_EQ(after.ids[1], before.ids[1]);
    EXPECT_EQ(after, fresh_view(options()));
}

TEST_F(IndexCacheTest, ARewriteOfTheSameLengthIsNeverServedFromTheSavedIndex) {
    // Same length, same From_ lines at the same offsets, other bodies: only
    // the digest of every byte tells them apart.
    write_file(kM1 + kM2 + kM3);
    { open_cached()->load_uids(); }
    std::string other = kM1 + kM2 + kM3;
    other.replace(other.find("body one"), 8, "BODY ONE");
    {
        std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);  // in place: same inode
        f << other;
    }
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::file);
    EXPECT_EQ(view(*md), fresh_view(options()));
    EXPECT_EQ(retr(*md, 0), "Subject: one\r\n\r\nBODY ONE\r\n");
}

TEST_F(IndexCacheTest, AnIndexTakenWithoutIdsGetsThemLater) {
    write_file(kM1 + kM2);
    { open_cached(); }  // no UIDL in that session
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::saved);
    EXPECT_EQ(view(*md), fresh_view(options()));
}

TEST_F(IndexCacheTest, ADamagedOrTornFileIsIgnored) {
    write_file(kM1 + kM2 + kM3);
    { view(*open_cached()); }
    const auto size = fs::file_size(cache_file());
    for (std::uint64_t at : {std::uint64_t{0}, std::uint64_t{20}, std::uint64_t{100}, std::uint64_t{130},
                             size / 2, size - 1}) {
        { view(*open_cached()); }  // saved again, whole
        ASSERT_EQ(open_cached()->indexed_from(), IndexedFrom::saved);
        std::fstream f(cache_file(), std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(static_cast<std::streamoff>(at));
        f.put('\x5a');
        f.close();
        auto md = open_cached();
        EXPECT_EQ(md->indexed_from(), IndexedFrom::file) << at;
        EXPECT_EQ(view(*md), fresh_view(options())) << at;
    }
    { view(*open_cached()); }
    fs::resize_file(cache_file(), size - 10);  // torn
    EXPECT_EQ(open_cached()->indexed_from(), IndexedFrom::file);
}

TEST_F(IndexCacheTest, OtherOptionsOrAnotherFileIgnoreIt) {
    write_file(kM1 + ">From quoted\n" + kM2);
    { view(*open_cached()); }
    auto o = options();
    o.unquote = false;
    {
        auto md = open_cached(o);
        EXPECT_EQ(md->indexed_from(), IndexedFrom::file);
        EXPECT_EQ(view(*md), fresh_view(o));
    }
    o = options();
    o.max_messages = 1;
    {
        auto md = open_cached(o);
        EXPECT_EQ(md->indexed_from(), IndexedFrom::file);
        EXPECT_EQ(view(*md), fresh_view(o));
    }
    { view(*open_cached()); }
    // A new file of the same length (a rewrite through a new inode, which
    // may get the old one's number back): the digest tells.
    std::string bytes = read_file();
    bytes[bytes.find("body one")] = 'B';
    fs::remove(path);
    write_file(bytes);
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::file);
    EXPECT_EQ(view(*md), fresh_view(options()));
}

TEST_F(IndexCacheTest, NothingIsSavedAfterAnExpungeAndTheNextSessionIsRight) {
    write_file(kM1 + kM2 + kM3);
    {
        auto md = open_cached();
        view(*md);
        ASSERT_TRUE(md->expunge({false, true, false}).ok());
    }
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::file);
    EXPECT_EQ(md->count(), 2u);
    EXPECT_EQ(view(*md), fresh_view(options()));
}

TEST_F(IndexCacheTest, ExpungeFromASavedIndexDeletesExactlyTheMarkedMessage) {
    write_file(kM1 + kM2 + kM3);
    { view(*open_cached()); }
    append(kM4);
    auto md = open_cached();
    ASSERT_EQ(md->indexed_from(), IndexedFrom::saved_and_appended);
    ASSERT_TRUE(md->expunge({false, true, false, true}).ok());
    EXPECT_EQ(read_file(), kM1 + kM3);
}

TEST_F(IndexCacheTest, AFileThatIsNotOursIsRefused) {
    write_file(kM1);
    ASSERT_EQ(::symlink((dir + "/elsewhere").c_str(), cache_file().c_str()), 0);
    mailbox::Result r;
    EXPECT_FALSE(mailbox::IndexCache::open(cache_dir, path, r));
    EXPECT_NE(r.detail.find("saved index"), std::string::npos) << r.detail;
    EXPECT_FALSE(fs::exists(dir + "/elsewhere"));
    fs::remove(cache_file());
    std::ofstream(cache_file()) << "x";
    ::chmod(cache_file().c_str(), 0644);
    EXPECT_FALSE(mailbox::IndexCache::open(cache_dir, path, r));
    EXPECT_NE(r.detail.find("0644"), std::string::npos) << r.detail;
}

// Random mailboxes, saved, then grown by random appends (whole messages, a
// last line ended late, Content-Length bodies that now reach a From_ line,
// a From_ line cut short and then completed): the saved-index session must
// see what a whole index sees, every time.
std::string random_message(std::mt19937& rng, int n) {
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
    std::string m = "From s" + std::to_string(pick(3)) + "@x Thu Nov 26 10:00:0" + std::to_string(pick(10)) +
                    " 2026\n";
    if (pick(3) == 0) m += "X-UIDL: same" + std::to_string(pick(2)) + "\n";
    std::string body;
    for (int l = pick(4); l >= 0; --l) {
        switch (pick(6)) {
        case 0: body += "From inside a body\n"; break;
        case 1: body += ">From quoted\n"; break;
        case 2: body += ".dot line\r\n"; break;
        case 3: body += "\n"; break;
        default: body += "line " + std::to_string(n) + "\n";
        }
    }
    const int length = pick(4);
    if (length == 0) m += "Content-Length: " + std::to_string(body.size()) + "\n";  // consistent
    if (length == 1) m += "Content-Length: " + std::to_string(body.size() + 5 + pick(200)) + "\n";  // reaches on
    m += "Subject: " + std::to_string(n) + "\n\n" + body;
    if (pick(5) != 0) m += "\n";
    return m;
}

TEST_F(IndexCacheTest, RandomAppendsGiveWhatAWholeIndexGives) {
    std::mt19937 rng(1939);
    int resumed = 0;
    for (int round = 0; round < 300; ++round) {
        std::string content;
        for (int k = static_cast<int>(rng() % 5); k >= 0; --k) content += random_message(rng, k);
        write_file(content);
        fs::remove(cache_file());
        const bool ids_first = rng() % 2 == 0;
        {
            mailbox::Result r;
            auto md = mailbox::MboxMaildrop::open(options(), r, cache());
            if (!md) continue;  // not an mbox (random bytes can make one that is not)
            if (ids_first) view(*md);
        }
        std::string more;
        switch (rng() % 4) {
        case 0: more = random_message(rng, 90); break;
        case 1: more = "late end\n\n" + random_message(rng, 91); break;
        case 2: more = "From cut"; break;
        default: more = random_message(rng, 92) + random_message(rng, 93);
        }
        append(more);
        mailbox::Result r;
        auto fresh = mailbox::MboxMaildrop::open(options(), r);
        const bool fresh_ok = fresh != nullptr;
        const View want = fresh ? view(*fresh) : View{};
        fresh.reset();
        auto md = mailbox::MboxMaildrop::open(options(), r, cache());
        ASSERT_EQ(md != nullptr, fresh_ok) << round << ": " << r.detail;
        if (!md) continue;
        resumed += md->indexed_from() == IndexedFrom::saved_and_appended;
        EXPECT_EQ(view(*md), want) << "round " << round;
        if (more == "From cut") {  // the cut From_ line is completed: a message at last
            md.reset();
            append(" now@x Thu Nov 26 10:00:00 2026\nSubject: late\n\nx\n");
            fresh = mailbox::MboxMaildrop::open(options(), r);
            const View want2 = view(*fresh);
            fresh.reset();
            md = mailbox::MboxMaildrop::open(options(), r, cache());
            ASSERT_TRUE(md) << r.detail;
            EXPECT_EQ(view(*md), want2) << "round " << round << " (completed)";
        }
    }
    EXPECT_GT(resumed, 100);  // the path under test was taken
}

// A session that indexed appended mail and was never asked UIDL saves the
// ids it had: the next session takes the index and those ids.
TEST_F(IndexCacheTest, IdsKnownForTheFirstMessagesAreSavedAndUsed) {
    write_file(kM1 + "From x@x Thu Nov 26 10:00:09 2026\nX-UIDL: abc\n\nb\n\n" + kM2);
    { view(*open_cached()); }
    append(kM3);
    {
        auto md = open_cached();
        ASSERT_EQ(md->indexed_from(), IndexedFrom::saved_and_appended);
        view(*md, false);  // no UIDL
    }
    auto md = open_cached();
    EXPECT_EQ(md->indexed_from(), IndexedFrom::saved);
    EXPECT_EQ(view(*md), fresh_view(options()));
}

// A check that finds the mailbox changed saves nothing (the index no longer
// describes the file) before it answers.
TEST_F(IndexCacheTest, AChangedMailboxSavesNothing) {
    write_file(kM1 + kM2);
    auto md = open_cached();
    ASSERT_EQ(fs::file_size(cache_file()), 0u);
    fs::resize_file(path, 10);  // another program cut the file short
    EXPECT_FALSE(md->check(1).ok());
    md->release_buffers();
    md.reset();
    EXPECT_EQ(fs::file_size(cache_file()), 0u);
}

// Above 8 MiB the check's digest is taken on two threads and joined, the
// appended mail digested on after the join: the QUIT's proof agrees, and
// exactly the marked messages go.
TEST_F(IndexCacheTest, LargeMailboxAppendedThenExpunged) {
    std::string big;
    const std::string line = std::string(99, 'x') + "\n";
    for (int i = 0; i < 1000; ++i) {
        big += "From a@x Thu Nov 26 10:00:00 2026\nSubject: " + std::to_string(i) + "\n\n";
        for (int k = 0; k < 95; ++k) big += line;
        big += "\n";
    }
    big += "From z@x Thu Nov 26 10:00:00 2026\nSubject: last\n\nno newline at the end";
    ASSERT_GT(big.size(), 9u * 1024 * 1024);
    write_file(big);
    { view(*open_cached()); }
    append("\n\nFrom q@x Thu Nov 26 10:00:00 2026\nSubject: new\n\nnew\n\n");
    const View want = fresh_view(options());
    auto md = open_cached();
    ASSERT_EQ(md->indexed_from(), IndexedFrom::saved_and_appended);
    ASSERT_EQ(view(*md), want);
    std::vector<bool> del(md->count(), false);
    del[3] = del[md->count() - 1] = true;
    const mailbox::Result r = md->expunge(del);
    ASSERT_TRUE(r.ok()) << r.detail;
    md.reset();
    EXPECT_EQ(fresh_view(options()).sizes.size(), want.sizes.size() - 2);
    { view(*open_cached()); }  // an unchanged large mailbox from the saved index: its proof too
    md = open_cached();
    ASSERT_EQ(md->indexed_from(), IndexedFrom::saved);
    std::vector<bool> first(md->count(), false);
    first[0] = true;
    EXPECT_TRUE(md->expunge(first).ok());
}

// Chains of sessions, each starting from what the one before saved, with
// appends of every kind between them, UIDL asked or not, max_messages at
// times: every session sees what a whole index sees.
std::string chained_message(std::mt19937& rng, int n) {
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
    std::string m = "From s" + std::to_string(pick(2)) + "@x Thu Nov 26 10:00:0" + std::to_string(pick(2)) + " 2026\n";
    if (pick(3) == 0) m += "X-UIDL: same" + std::to_string(pick(2)) + "\n";
    if (pick(8) == 0) m += "X-UIDL: " + std::string(70, 'a') + "\n";
    std::string body;
    for (int l = pick(4); l >= 0; --l) {
        switch (pick(7)) {
        case 0: body += "From inside a body\n"; break;
        case 1: body += ">From quoted\n"; break;
        case 2: body += ".dot line\r\n"; break;
        case 3: body += "\n"; break;
        case 4: body += "\r\n"; break;
        default: body += "line " + std::to_string(n % 2) + "\n";
        }
    }
    const int length = pick(5);
    if (length == 0) m += "Content-Length: " + std::to_string(body.size()) + "\n";
    if (length == 1) m += "Content-Length: " + std::to_string(body.size() + 5 + pick(300)) + "\n";
    if (length == 2) m += "Content-Length: " + std::to_string(pick(static_cast<int>(body.size()) + 1)) + "\n";
    m += "Subject: " + std::to_string(n % 3) + "\n\n" + body;
    const int tail = pick(6);
    if (tail == 0) m += "\r\n";
    else if (tail != 1) m += "\n";
    return m;
}

TEST_F(IndexCacheTest, ChainedSessionsSeeWhatAWholeIndexSees) {
    std::mt19937 rng(4242);
    int from_saved = 0, appended = 0;
    for (int round = 0; round < 300; ++round) {
        std::string content;
        for (int k = static_cast<int>(rng() % 4); k >= 0; --k) content += chained_message(rng, k);
        write_file(content);
        fs::remove(cache_file());
        auto o = options();
        if (rng() % 3 == 0) o.max_messages = 1 + rng() % 4;
        for (int s = 0; s < 6; ++s) {
            switch (rng() % 6) {
            case 0: break;
            case 1: append(chained_message(rng, 50 + s)); break;
            case 2: append("From cut"); break;
            case 3: append(" now@x Thu\nSubject: x\n\nb\n"); break;
            case 4: append("\n"); break;
            default: append(chained_message(rng, 60) + chained_message(rng, 61)); break;
            }
            mailbox::Result r;
            auto fresh = mailbox::MboxMaildrop::open(o, r);
            const bool fresh_ok = fresh != nullptr;
            const bool with_ids = rng() % 2 == 0;
            View want = fresh ? view(*fresh) : View{};
            fresh.reset();
            auto md = mailbox::MboxMaildrop::open(o, r, cache());
            ASSERT_EQ(md != nullptr, fresh_ok) << round << "/" << s << ": " << r.detail;
            if (!md) break;
            from_saved += md->indexed_from() == IndexedFrom::saved;
            appended += md->indexed_from() == IndexedFrom::saved_and_appended;
            if (!with_ids) want.ids.clear();
            ASSERT_EQ(view(*md, with_ids), want) << "round " << round << " session " << s;
        }
    }
    EXPECT_GT(from_saved, 100);
    EXPECT_GT(appended, 400);
}

}  // namespace
