// UIDs hashed on a second core while the index is taken (UidPrefetch): the
// ids are the ones the session's thread alone gives, whatever the mailbox,
// whether or not UIDL comes, and a mailbox changed before UIDL is noticed.
#include "mailbox/index_cache.hpp"
#include "mailbox/uid_prefetch.hpp"
#include "mbox_maildrop_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace pop3d;
using namespace pop3d::testing;
namespace fs = std::filesystem;

namespace {

class UidPrefetchTest : public MboxMaildropTest {
protected:
    mailbox::MboxOptions prefetching() {
        auto o = options();
        o.uid_prefetch_bytes = 0;  // any mailbox
        return o;
    }
    mailbox::MboxOptions alone() {
        auto o = options();
        o.uid_prefetch_bytes = UINT64_MAX;
        return o;
    }
    std::vector<std::string> ids_with(const mailbox::MboxOptions& o,
                                      std::unique_ptr<mailbox::IndexCache> cache = nullptr) {
        mailbox::Result r;
        auto md = mailbox::MboxMaildrop::open(o, r, std::move(cache));
        EXPECT_TRUE(md) << r.detail;
        return md ? uids(*md) : std::vector<std::string>{};
    }
};

std::string message(std::mt19937& rng, int n) {
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
    std::string m = "From s" + std::to_string(pick(3)) + "@x Thu Nov 26 10:00:0" + std::to_string(pick(3)) + " 2026\n";
    if (pick(3) == 0) m += "X-UIDL: same" + std::to_string(pick(2)) + "\n";
    std::string body;
    for (int l = pick(40); l >= 0; --l) body += pick(9) == 0 ? ">From quoted\n" : "line " + std::to_string(n % 3) + "\n";
    if (pick(4) == 0) m += "Content-Length: " + std::to_string(body.size()) + "\n";
    m += "Subject: " + std::to_string(n % 5) + "\n\n" + body + "\n";
    return m;
}

TEST_F(UidPrefetchTest, IdsAreTheOnesOneThreadGives) {
    std::mt19937 rng(2449);
    for (int round = 0; round < 40; ++round) {
        std::string content;
        // From a few messages to many batches (UidPrefetch::kBatchBytes).
        const int n = round < 20 ? 1 + round : 3000 + round * 100;
        for (int k = 0; k < n; ++k) content += message(rng, k);
        write_file(content);
        EXPECT_EQ(ids_with(prefetching()), ids_with(alone())) << "round " << round;
    }
}

TEST_F(UidPrefetchTest, NoUidlLeavesNothingRunning) {
    std::mt19937 rng(1);
    std::string content;
    for (int k = 0; k < 5000; ++k) content += message(rng, k);
    write_file(content);
    for (int i = 0; i < 20; ++i) {
        mailbox::Result r;
        auto md = mailbox::MboxMaildrop::open(prefetching(), r);
        ASSERT_TRUE(md) << r.detail;
        EXPECT_EQ(md->count(), 5000u);
    }  // destroyed before, during or after the helper's work: joined each time
    EXPECT_EQ(ids_with(prefetching()), ids_with(alone()));  // and the slot was given back
}

TEST_F(UidPrefetchTest, AMailboxCutShortBeforeUidlIsNoticed) {
    std::mt19937 rng(3);
    std::string content;
    for (int k = 0; k < 3000; ++k) content += message(rng, k);
    write_file(content);
    mailbox::Result r;
    auto md = mailbox::MboxMaildrop::open(prefetching(), r);
    ASSERT_TRUE(md);
    fs::resize_file(path, content.size() / 2);
    // The helper may have hashed everything already, from the file as it
    // was: then the ids are those of the messages indexed, and any RETR of a
    // cut message fails its check. Otherwise the UIDL says the mailbox changed.
    const mailbox::Result u = md->load_uids();
    if (!u.ok()) {
        EXPECT_EQ(u.status, mailbox::Status::changed);
    }
    EXPECT_FALSE(md->check(md->count() - 1).ok());
}

TEST_F(UidPrefetchTest, AppendedMailFromASavedIndexIsHashedAhead) {
    const std::string cache_dir = dir + "/cache";
    ASSERT_EQ(::mkdir(cache_dir.c_str(), 0700), 0);
    auto cache = [&] {
        mailbox::Result r;
        return mailbox::IndexCache::open(cache_dir, path, r);
    };
    std::mt19937 rng(4);
    std::string content;
    for (int k = 0; k < 2000; ++k) content += message(rng, k);
    write_file(content);
    ids_with(prefetching(), cache());
    std::string more;
    for (int k = 0; k < 2000; ++k) more += message(rng, k);
    std::ofstream(path, std::ios::binary | std::ios::app) << more;
    mailbox::Result r;
    auto md = mailbox::MboxMaildrop::open(prefetching(), r, cache());
    ASSERT_TRUE(md);
    EXPECT_EQ(md->indexed_from(), mailbox::MboxMaildrop::IndexedFrom::saved_and_appended);
    EXPECT_EQ(uids(*md), ids_with(alone()));
}

// max_messages, a cut last From_ line, repeated X-UIDL values, a saved
// index with or without ids and mail appended after it: the same ids
// with and without the helper.
TEST_F(UidPrefetchTest, EveryWayAnIndexIsTakenGivesTheSameIds) {
    std::mt19937 rng(77);
    const std::string cache_dir = dir + "/cache";
    auto cache = [&] {
        mailbox::Result r;
        return mailbox::IndexCache::open(cache_dir, path, r);
    };
    for (int round = 0; round < 20; ++round) {
        std::string content;
        const int n = 1 + static_cast<int>(rng() % 4000);
        for (int k = 0; k < n; ++k) content += message(rng, k);
        if (round % 3 == 0) content += "From partial@x Thu Nov";  // a cut From_ line
        write_file(content);
        auto with = prefetching(), without = alone();
        if (round % 2 == 0) with.max_messages = without.max_messages = rng() % (n + 5) + 1;
        EXPECT_EQ(ids_with(with), ids_with(without)) << "round " << round;
        fs::remove_all(cache_dir);
        ASSERT_EQ(::mkdir(cache_dir.c_str(), 0700), 0);
        if (round % 2) {
            ids_with(without, cache());
        } else {  // no UIDL: saved without ids
            mailbox::Result r;
            mailbox::MboxMaildrop::open(without, r, cache());
        }
        std::string more;
        for (int k = 1 + static_cast<int>(rng() % 3000); k > 0; --k) more += message(rng, k);
        std::ofstream(path, std::ios::binary | std::ios::app) << more;
        EXPECT_EQ(ids_with(with, cache()), ids_with(without)) << "appended, round " << round;
    }
}

}  // namespace
