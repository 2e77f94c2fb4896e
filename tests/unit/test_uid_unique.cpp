// make_uids_unique: the same ids as the original one-suffix-at-a-time search
// (kept below as the reference; clients key on the ids, so they may never
// change), in linear time however many messages share an X-UIDL.
#include "mailbox/uid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <unordered_set>

using namespace pop3d;
using mailbox::MessageEntry;
using mailbox::UidOverrides;

namespace {

// ---- the reference: the algorithm before issue 17, verbatim but for names --

std::string ref_hex(const std::array<std::uint8_t, 16>& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(32, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        s[2 * i] = digits[d[i] >> 4];
        s[2 * i + 1] = digits[d[i] & 15];
    }
    return s;
}

bool ref_parse_hex(std::string_view s, std::array<std::uint8_t, 16>& out) {
    if (s.size() != 32) return false;
    auto val = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < 16; ++i) {
        const int hi = val(s[2 * i]), lo = val(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

std::string ref_render(const MessageEntry& entry, const UidOverrides& overrides, std::uint32_t index) {
    std::string base;
    if (entry.flags & MessageEntry::kHasOverride) {
        const auto it = overrides.find(index);
        base = it != overrides.end() ? it->second : ref_hex(entry.digest);
    } else {
        base = ref_hex(entry.digest);
    }
    if (entry.dup == 0) return base;
    const std::string suffix = "." + std::to_string(entry.dup + 1);
    if (base.size() + suffix.size() > mailbox::kMaxUidLength) base.resize(mailbox::kMaxUidLength - suffix.size());
    return base + suffix;
}

void ref_make_unique(std::span<MessageEntry> entries, const UidOverrides& overrides) {
    std::vector<std::uint32_t> plain;
    plain.reserve(entries.size());
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
        entries[i].dup = 0;
        if (!(entries[i].flags & MessageEntry::kHasOverride)) plain.push_back(i);
    }
    std::sort(plain.begin(), plain.end(), [&](std::uint32_t a, std::uint32_t b) {
        const int c = std::memcmp(entries[a].digest.data(), entries[b].digest.data(), 16);
        return c != 0 ? c < 0 : a < b;
    });
    std::vector<std::uint32_t> special;
    for (std::size_t k = 1; k < plain.size(); ++k) {
        MessageEntry& e = entries[plain[k]];
        const MessageEntry& prev = entries[plain[k - 1]];
        if (std::memcmp(e.digest.data(), prev.digest.data(), 16) == 0) {
            e.dup = prev.dup + 1;
            special.push_back(plain[k]);
        }
    }
    for (std::uint32_t i = 0; i < entries.size(); ++i)
        if (entries[i].flags & MessageEntry::kHasOverride) special.push_back(i);
    if (special.empty()) return;
    std::sort(special.begin(), special.end());
    auto plain_taken = [&](const std::string& s) {
        std::array<std::uint8_t, 16> d{};
        if (!ref_parse_hex(s, d)) return false;
        const auto it = std::lower_bound(plain.begin(), plain.end(), d, [&](std::uint32_t a, const auto& key) {
            return std::memcmp(entries[a].digest.data(), key.data(), 16) < 0;
        });
        return it != plain.end() && std::memcmp(entries[*it].digest.data(), d.data(), 16) == 0 &&
               entries[*it].dup == 0;
    };
    std::unordered_set<std::string> taken;
    for (std::uint32_t i : special) {
        std::string s = ref_render(entries[i], overrides, i);
        while (taken.count(s) || plain_taken(s)) {
            ++entries[i].dup;
            s = ref_render(entries[i], overrides, i);
        }
        taken.insert(std::move(s));
    }
}

// ---- random inputs built to collide ------------------------------------------

struct Case {
    std::vector<MessageEntry> entries;
    UidOverrides overrides;
};

std::array<std::uint8_t, 16> digest_of(unsigned k) {
    std::array<std::uint8_t, 16> d{};
    d[0] = static_cast<std::uint8_t>(0xa0 + k);  // renders as "a0..", "a1..": hex ids
    d[15] = static_cast<std::uint8_t>(k);
    return d;
}

// Bases whose suffixed ids meet: 70-byte values that agree on their first
// 69, 68, 67 or 66 bytes (so the cut for ".N", ".NN" or ".NNN" makes them
// equal), a 67-byte one, short ones, and hex ids of the digests in use.
std::vector<std::string> base_pool() {
    const std::string p66(66, 'p');
    std::vector<std::string> b = {"same", "x", "x.2", p66 + "aaaa", p66 + "aaab", p66 + "aabz", p66 + "abzz",
                                  p66 + "zzzz", p66 + "a", p66 + "aa", p66 + "."};
    for (unsigned k = 0; k < 3; ++k) b.push_back(ref_hex(digest_of(k)));
    return b;
}

// An X-UIDL value: a base, or what a suffixed id of a base looks like (the
// literal value a later suffix search will meet), sometimes with a large
// suffix (a wide one cuts a long base further).
std::string random_xuidl(std::mt19937& rng, const std::vector<std::string>& bases) {
    const std::string& base = bases[rng() % bases.size()];
    if (rng() % 2 == 0) return base;
    static constexpr std::uint32_t far[] = {8, 9, 10, 11, 98, 99, 100, 101};
    const std::uint32_t dup = rng() % 3 == 0 ? far[rng() % 8] : 1 + static_cast<std::uint32_t>(rng() % 12);
    MessageEntry e;
    e.flags = MessageEntry::kHasOverride;
    e.dup = dup;
    return ref_render(e, {{0, base}}, 0);
}

Case random_case(std::mt19937& rng, std::size_t n, const std::vector<std::string>& bases) {
    Case c;
    const unsigned digests = 1 + static_cast<unsigned>(rng() % 4);
    const unsigned xuidl_percent = static_cast<unsigned>(rng() % 101);
    for (std::uint32_t i = 0; i < n; ++i) {
        MessageEntry e;
        e.digest = digest_of(static_cast<unsigned>(rng() % digests));
        e.dup = static_cast<std::uint32_t>(rng() % 5);  // stale values must not matter
        if (rng() % 100 < xuidl_percent) {
            e.flags = MessageEntry::kHasOverride;
            if (rng() % 20 != 0) c.overrides[i] = random_xuidl(rng, bases);  // else: flag without value
        }
        c.entries.push_back(e);
    }
    return c;
}

std::vector<std::string> rendered(const Case& c) {
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < c.entries.size(); ++i) out.push_back(mailbox::render_uid(c.entries[i], c.overrides, i));
    return out;
}

void expect_same_as_reference(Case c, const std::string& what) {
    Case ref = c;
    ref_make_unique(ref.entries, ref.overrides);
    mailbox::make_uids_unique(c.entries, c.overrides);
    std::vector<std::string> want;
    for (std::uint32_t i = 0; i < ref.entries.size(); ++i) want.push_back(ref_render(ref.entries[i], ref.overrides, i));
    const auto got = rendered(c);
    ASSERT_EQ(got, want) << what;
    for (std::size_t i = 0; i < c.entries.size(); ++i) ASSERT_EQ(c.entries[i].dup, ref.entries[i].dup) << what << " #" << i;
    ASSERT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << what;
    for (const std::string& u : got) ASSERT_TRUE(mailbox::valid_uid(u)) << u;
}

}  // namespace

TEST(UidUnique, SameIdsAsTheOriginalSearchOnCollidingInputs) {
    std::mt19937 rng(17);
    const auto bases = base_pool();
    for (int round = 0; round < 20000; ++round) {
        const std::size_t n = 1 + rng() % 40;
        expect_same_as_reference(random_case(rng, n, bases), "round " + std::to_string(round));
    }
}

TEST(UidUnique, SameIdsAsTheOriginalSearchPastThreeDigitSuffixes) {
    // Enough copies of few bases that suffixes reach .100 and beyond, where a
    // 70-byte base is cut once more.
    std::mt19937 rng(21);
    std::vector<std::string> bases = base_pool();
    const std::vector<std::string> narrow = {bases[3], bases[4], bases[6], bases[7], bases[8], "same"};
    for (int round = 0; round < 300; ++round) {
        const std::size_t n = 100 + rng() % 200;
        expect_same_as_reference(random_case(rng, n, round % 2 ? narrow : bases), "round " + std::to_string(round));
    }
}

TEST(UidUnique, TwoHundredThousandCopiesOfOneXuidlFinish) {
    // The original search probed every earlier copy's id: minutes for this.
    constexpr std::uint32_t n = 200000;
    std::vector<MessageEntry> entries(n);
    UidOverrides overrides;
    for (std::uint32_t i = 0; i < n; ++i) {
        entries[i].flags = MessageEntry::kHasOverride;
        entries[i].digest[0] = static_cast<std::uint8_t>(i);
        overrides[i] = "same";
    }
    mailbox::make_uids_unique(entries, overrides);
    EXPECT_EQ(mailbox::render_uid(entries[0], overrides, 0), "same");
    EXPECT_EQ(mailbox::render_uid(entries[1], overrides, 1), "same.2");
    EXPECT_EQ(mailbox::render_uid(entries[n - 1], overrides, n - 1), "same." + std::to_string(n));
    std::unordered_set<std::string> seen;
    for (std::uint32_t i = 0; i < n; ++i) seen.insert(mailbox::render_uid(entries[i], overrides, i));
    EXPECT_EQ(seen.size(), n);
}

TEST(UidUnique, LongSharedXuidlWithLiteralSuffixesMatchesTheReference) {
    // 70-byte copies, with X-UIDL values that look like the ids the copies get
    // (cut for suffixes of 1 to 4 digits).
    constexpr std::uint32_t n = 3000;
    const std::string v(70, 'v');
    std::vector<MessageEntry> entries(n);
    UidOverrides overrides;
    for (std::uint32_t i = 0; i < n; ++i) {
        entries[i].flags = MessageEntry::kHasOverride;
        MessageEntry probe;
        probe.flags = MessageEntry::kHasOverride;
        probe.dup = n - i;
        overrides[i] = i % 3 == 0 ? ref_render(probe, {{0, v}}, 0) : v;
    }
    Case c{entries, overrides};
    expect_same_as_reference(c, "long");
}
