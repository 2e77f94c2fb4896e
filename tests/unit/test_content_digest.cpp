#include "mailbox/content_digest.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using pop3d::mailbox::ContentDigest;

namespace {

ContentDigest::Value from_hex(const std::string& hex) {
    ContentDigest::Value v{};
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    return v;
}

ContentDigest::Value xor_of(ContentDigest::Value a, const ContentDigest::Value& b) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] ^= b[i];
    return a;
}

// The digest computed the slow way: POLYVAL over the zero-padded blocks and
// a length block, with the bit-by-bit field product.
ContentDigest::Value reference_digest(const ContentDigest::Key& key, const std::string& data) {
    ContentDigest::Value acc{};
    std::string padded = data;
    padded.resize((data.size() + 15) / 16 * 16, '\0');
    std::uint64_t bits = data.size() * 8;
    std::string length(16, '\0');
    for (int i = 0; i < 8; ++i) length[i] = static_cast<char>(bits >> (8 * i));
    padded += length;
    for (std::size_t off = 0; off < padded.size(); off += 16) {
        ContentDigest::Value block;
        std::copy_n(padded.data() + off, 16, reinterpret_cast<char*>(block.data()));
        acc = ContentDigest::dot_reference(xor_of(acc, block), key);
    }
    return acc;
}

}  // namespace

// RFC 8452, Appendix A: POLYVAL(H, X_1, X_2).
TEST(ContentDigest, PolyvalTestVectorOfRfc8452) {
    const auto h = from_hex("25629347589242761d31f826ba4b757b");
    const auto x1 = from_hex("4f4f95668c83dfb6401762bb2d01a262");
    const auto x2 = from_hex("d1a24ddd2721d006bbe45f20d3c9f362");
    auto s = ContentDigest::dot_reference(x1, h);
    s = ContentDigest::dot_reference(xor_of(s, x2), h);
    EXPECT_EQ(s, from_hex("f7a3b47b846119fae5b7866cf5e5b77e"));
}

// Every engine this CPU has (portable, carry-less multiply, its AVX-512
// form), each against the reference.
TEST(ContentDigest, EqualsTheBitByBitReferenceForEveryLengthAndChunking) {
    std::mt19937_64 rng(7);
    const auto best = ContentDigest::best_engine();
    for (int round = 0; round < 900; ++round) {
        ContentDigest::use_engine(static_cast<ContentDigest::Engine>(round % (static_cast<int>(best) + 1)));
        ContentDigest::Key key;
        for (auto& b : key) b = static_cast<std::uint8_t>(rng());
        std::string data(rng() % 1500, '\0');
        for (char& c : data) c = static_cast<char>(rng());
        const auto want = reference_digest(key, data);
        ContentDigest whole(key);
        whole.update(data.data(), data.size());
        ASSERT_EQ(whole.finish(), want) << "length " << data.size();
        ContentDigest pieces(key);
        for (std::size_t at = 0; at < data.size();) {
            const std::size_t n = std::min<std::size_t>(data.size() - at, rng() % 40);
            pieces.update(data.data() + at, n);
            at += n;
        }
        ASSERT_EQ(pieces.finish(), want) << "length " << data.size();
    }
    ContentDigest::use_engine(best);
}

TEST(ContentDigest, AnyChangeOfAByteOrOfTheLengthChangesIt) {
    const auto key = *ContentDigest::random_key();
    std::string data(100000, 'a');
    auto digest = [&](const std::string& d) {
        ContentDigest c(key);
        c.update(d.data(), d.size());
        return c.finish();
    };
    const auto base = digest(data);
    for (std::size_t at : {0ul, 1ul, 15ul, 16ul, 127ul, 128ul, 4096ul, 99999ul}) {
        std::string changed = data;
        changed[at] = 'b';
        EXPECT_NE(digest(changed), base) << at;
    }
    EXPECT_NE(digest(data + std::string(1, '\0')), base);  // zero padding alone does not hide a byte
    EXPECT_NE(digest(data.substr(1)), base);
}

TEST(ContentDigest, FinishDoesNotEndTheStream) {
    const auto key = *ContentDigest::random_key();
    ContentDigest a(key), b(key);
    a.update("hello ", 6);
    (void)a.finish();
    a.update("world", 5);
    b.update("hello world", 11);
    EXPECT_EQ(a.finish(), b.finish());
    a.reset();
    ContentDigest empty(key);
    EXPECT_EQ(a.finish(), empty.finish());
}

TEST(ContentDigest, RandomKeysAreNonZeroAndDiffer) {
    const auto a = *ContentDigest::random_key(), b = *ContentDigest::random_key();
    EXPECT_NE(a, ContentDigest::Key{});
    EXPECT_NE(a, b);
}

// Two parts digested apart and joined (two threads each take one half of a
// file) give the digest of the whole, for any block-aligned split.
TEST(ContentDigest, AppendJoinsTwoPartsAsOneStream) {
    std::mt19937_64 rng(11);
    for (int round = 0; round < 400; ++round) {
        ContentDigest::Key key{};
        for (auto& b : key) b = static_cast<std::uint8_t>(rng());
        key[0] |= 1;
        std::string data(rng() % 3000, '\0');
        for (auto& c : data) c = static_cast<char>(rng());
        const std::size_t split = (data.empty() ? 0 : rng() % (data.size() + 1)) / 16 * 16;
        ContentDigest whole(key), first(key), second(key);
        whole.update(data.data(), data.size());
        first.update(data.data(), split);
        second.update(data.data() + split, data.size() - split);
        first.append(second);
        EXPECT_EQ(first.finish(), whole.finish()) << data.size() << " split at " << split;
        EXPECT_EQ(first.finish(), reference_digest(key, data));
        first.update("more", 4);  // and it goes on like the whole one
        whole.update("more", 4);
        EXPECT_EQ(first.finish(), whole.finish());
    }
}
