// The index array: entries survive every growth, from the heap into a
// mapping of its own, a move, and giving back the unused tail.
#include "mailbox/message_index.hpp"

#include <gtest/gtest.h>

#include <utility>

using pop3d::mailbox::MessageEntry;
using pop3d::mailbox::MessageIndex;

namespace {

MessageEntry entry(std::uint64_t i) {
    MessageEntry e;
    e.from_offset = i * 100;
    e.content_offset = i * 100 + 10;
    e.content_end = i * 100 + 90;
    e.size = i;
    e.digest[0] = static_cast<std::uint8_t>(i);
    e.dup = static_cast<std::uint32_t>(i % 7);
    return e;
}

void expect_entries(const MessageIndex& ix, std::size_t n) {
    ASSERT_EQ(ix.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(ix[i].from_offset, i * 100) << i;
        ASSERT_EQ(ix[i].content_end, i * 100 + 90) << i;
        ASSERT_EQ(ix[i].size, i) << i;
        ASSERT_EQ(ix[i].digest[0], static_cast<std::uint8_t>(i)) << i;
        ASSERT_EQ(ix[i].dup, i % 7) << i;
    }
}

TEST(MessageIndex, EntriesSurviveGrowthPastTheHeapIntoAMapping) {
    // Well past kMapThreshold and past one 2 MiB mapping.
    const std::size_t n = 3 * (4u << 20) / sizeof(MessageEntry);
    MessageIndex ix;
    EXPECT_TRUE(ix.empty());
    for (std::size_t i = 0; i < n; ++i) ix.push_back(entry(i));
    expect_entries(ix, n);
    EXPECT_EQ(ix.front().size, 0u);
    EXPECT_EQ(ix.back().size, n - 1);
    EXPECT_EQ(static_cast<std::size_t>(ix.end() - ix.begin()), n);
    ix.shrink_to_fit();
    expect_entries(ix, n);
    ix.push_back(entry(n));  // grows again after the shrink
    expect_entries(ix, n + 1);
}

TEST(MessageIndex, SmallIndexesStayInTheHeapAndShrink) {
    MessageIndex ix;
    for (std::size_t i = 0; i < 100; ++i) ix.push_back(entry(i));
    ix.shrink_to_fit();
    expect_entries(ix, 100);
    ix.clear();
    EXPECT_TRUE(ix.empty());
    for (std::size_t i = 0; i < 10; ++i) ix.push_back(entry(i));
    expect_entries(ix, 10);
}

TEST(MessageIndex, MovesTakeTheStorage) {
    for (std::size_t n : {std::size_t{5}, std::size_t{40000}}) {
        MessageIndex a;
        for (std::size_t i = 0; i < n; ++i) a.push_back(entry(i));
        MessageIndex b(std::move(a));
        expect_entries(b, n);
        MessageIndex c;
        c.push_back(entry(0));
        c = std::move(b);
        expect_entries(c, n);
        MessageIndex empty;
        c = std::move(empty);
        EXPECT_TRUE(c.empty());
    }
}

}  // namespace
