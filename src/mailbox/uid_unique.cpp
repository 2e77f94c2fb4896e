// Rendering ids and making them unique within a maildrop (uid.hpp).
//
// The ids must never change (clients key on them), so the rules are fixed:
// plain hashed ids win; then, in mailbox order, each X-UIDL or repeated
// digest takes the first of base, base.2, base.3... (its start depends on
// its rank among equal digests) that no earlier id took. Only the search is
// clever: an id taken as base.N remembers the next suffix worth trying, so a
// run of equal X-UIDL values costs one probe each instead of one per earlier
// copy (anyone can mail 100,000 copies of one X-UIDL).
#include "mailbox/uid.hpp"

#include <sys/random.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstring>

namespace pop3d::mailbox {

namespace {

using HexBuf = std::array<char, 32>;
using UidBuf = std::array<char, kMaxUidLength>;

std::string_view hex(const std::array<std::uint8_t, 16>& d, HexBuf& out) {
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < d.size(); ++i) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    return {out.data(), out.size()};
}

bool parse_hex(std::string_view s, std::array<std::uint8_t, 16>& out) {
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

// The id before any suffix: the X-UIDL value, else the digest in hex.
std::string_view uid_base(const MessageEntry& e, const UidOverrides& overrides, std::uint32_t index, HexBuf& buf) {
    if (e.flags & MessageEntry::kHasOverride) {
        const auto it = overrides.find(index);
        if (it != overrides.end()) return it->second;
    }
    return hex(e.digest, buf);
}

// base for dup 0; else base + "." + (dup + 1), the base cut so that the id
// keeps within kMaxUidLength bytes. The suffix number's width decides the
// cut, so two bases that agree up to the cut give the same ids from there on.
std::string_view compose_uid(std::string_view base, std::uint32_t dup, UidBuf& buf) {
    if (dup == 0) return base;
    char suffix[16] = {'.'};
    const auto r = std::to_chars(suffix + 1, suffix + sizeof suffix, dup + 1u);
    const std::size_t suffix_len = static_cast<std::size_t>(r.ptr - suffix);
    const std::size_t keep = std::min(base.size(), kMaxUidLength - suffix_len);
    std::memcpy(buf.data(), base.data(), keep);
    std::memcpy(buf.data() + keep, suffix, suffix_len);
    return {buf.data(), keep + suffix_len};
}

// SipHash-1-3 under a key drawn for each maildrop: X-UIDL values come from
// anyone who can send mail, and a fixed hash would let them pick values that
// all land in one run of the table. The ids given never depend on the hash.
class IdHash {
public:
    IdHash() {
        if (::getrandom(k_, sizeof k_, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof k_)) {
            k_[0] = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
            k_[1] = reinterpret_cast<std::uintptr_t>(this) * 0x9e3779b97f4a7c15ULL;
        }
    }

    std::uint64_t operator()(std::string_view s) const {
        std::uint64_t v0 = 0x736f6d6570736575ULL ^ k_[0], v1 = 0x646f72616e646f6dULL ^ k_[1];
        std::uint64_t v2 = 0x6c7967656e657261ULL ^ k_[0], v3 = 0x7465646279746573ULL ^ k_[1];
        auto round = [&] {
            v0 += v1, v1 = std::rotl(v1, 13), v1 ^= v0, v0 = std::rotl(v0, 32);
            v2 += v3, v3 = std::rotl(v3, 16), v3 ^= v2;
            v0 += v3, v3 = std::rotl(v3, 21), v3 ^= v0;
            v2 += v1, v1 = std::rotl(v1, 17), v1 ^= v2, v2 = std::rotl(v2, 32);
        };
        auto absorb = [&](std::uint64_t m) {
            v3 ^= m;
            round();
            v0 ^= m;
        };
        std::size_t i = 0;
        for (; i + 8 <= s.size(); i += 8) {
            std::uint64_t m;
            std::memcpy(&m, s.data() + i, 8);
            absorb(m);
        }
        std::uint64_t last = static_cast<std::uint64_t>(s.size()) << 56;
        for (std::size_t j = 0; i + j < s.size(); ++j)
            last |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i + j])) << (8 * j);
        absorb(last);
        v2 ^= 0xff;
        round();
        round();
        round();
        return v0 ^ v1 ^ v2 ^ v3;
    }

private:
    std::uint64_t k_[2];
};

// Gives the special ids (X-UIDL values and repeated digests) in mailbox
// order. The ids taken so far live in an open-addressing table of entry
// indices (an id is rendered again from its entry when compared): 12 bytes a
// slot, sized once, instead of a string per id.
class SpecialIds {
public:
    SpecialIds(std::span<MessageEntry> entries, const UidOverrides& overrides, std::span<const std::uint32_t> plain,
               std::size_t specials)
        : entries_(entries), overrides_(overrides), plain_(plain) {
        std::size_t cap = 16;
        while (cap < specials + specials / 2 + 1) cap *= 2;  // load <= 2/3
        slots_.resize(cap);
        mask_ = cap - 1;
    }

    void assign(std::uint32_t i);

private:
    static constexpr std::uint32_t kEmpty = UINT32_MAX;
    struct Slot {
        std::uint32_t index = kEmpty;  // the entry whose id this is
        std::uint32_t tag = 0;         // high hash bits, to skip most renderings
        std::uint32_t next = 0;        // see assign(); 0: nothing known past this id
    };

    static std::uint32_t tag_of(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }
    Slot* find(std::string_view id, std::uint64_t h);
    void insert(std::uint32_t i, std::uint64_t h, std::uint32_t next);
    bool plain_taken(std::string_view id) const;

    std::span<MessageEntry> entries_;
    const UidOverrides& overrides_;
    std::span<const std::uint32_t> plain_;  // plain hashed ids, sorted by digest
    IdHash hash_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::vector<Slot*> path_;  // reused by assign()
};

SpecialIds::Slot* SpecialIds::find(std::string_view id, std::uint64_t h) {
    const std::uint32_t tag = tag_of(h);
    HexBuf hb;
    UidBuf ub;
    for (std::size_t k = h & mask_;; k = (k + 1) & mask_) {
        Slot& s = slots_[k];
        if (s.index == kEmpty) return nullptr;
        if (s.tag != tag) continue;
        const MessageEntry& e = entries_[s.index];
        if (compose_uid(uid_base(e, overrides_, s.index, hb), e.dup, ub) == id) return &s;
    }
}

void SpecialIds::insert(std::uint32_t i, std::uint64_t h, std::uint32_t next) {
    std::size_t k = h & mask_;
    while (slots_[k].index != kEmpty) k = (k + 1) & mask_;
    slots_[k] = Slot{i, tag_of(h), next};
}

// A hex id equal to a plain hashed one (only an X-UIDL can look like that).
bool SpecialIds::plain_taken(std::string_view id) const {
    std::array<std::uint8_t, 16> d{};
    if (!parse_hex(id, d)) return false;
    const auto it = std::lower_bound(plain_.begin(), plain_.end(), d, [&](std::uint32_t a, const auto& key) {
        return std::memcmp(entries_[a].digest.data(), key.data(), 16) < 0;
    });
    return it != plain_.end() && std::memcmp(entries_[*it].digest.data(), d.data(), 16) == 0 &&
           entries_[*it].dup == 0;
}

// Entry i takes the first free id of base (if its dup is 0), base.(dup+1),
// base.(dup+2)... The ids that follow a suffixed id depend on that id alone
// (compose_uid), so a taken id can record in `next` the dup up to which all
// of them are known to be taken, whichever base led to it. The ids passed on
// the way all learn the dup past the one given here: each taken id is
// stepped over about once, however many entries share a base.
void SpecialIds::assign(std::uint32_t i) {
    MessageEntry& e = entries_[i];
    HexBuf hb;
    UidBuf ub;
    const std::string_view base = uid_base(e, overrides_, i, hb);
    std::uint32_t dup = e.dup;
    if (dup == 0) {
        const std::uint64_t h = hash_(base);
        if (!find(base, h) && !plain_taken(base)) {
            insert(i, h, 0);
            return;
        }
        dup = 1;  // base.N never looks like a hashed id: no plain_taken() below
    }
    path_.clear();
    std::string_view id;
    std::uint64_t h = 0;
    for (;;) {
        id = compose_uid(base, dup, ub);
        h = hash_(id);
        Slot* s = find(id, h);
        if (!s) break;
        path_.push_back(s);
        dup = std::max(dup + 1, s->next);
    }
    e.dup = dup;
    insert(i, h, dup + 1);
    for (Slot* s : path_) s->next = dup + 1;
}

}  // namespace

std::string render_uid(const MessageEntry& entry, const UidOverrides& overrides, std::uint32_t index) {
    HexBuf hb;
    UidBuf ub;
    return std::string(compose_uid(uid_base(entry, overrides, index, hb), entry.dup, ub));
}

void make_uids_unique(std::span<MessageEntry> entries, const UidOverrides& overrides) {
    // Plain hashed ids first: equal digests are byte-identical messages; all but
    // the first (in mailbox order) get a suffix.
    std::size_t hashed = 0;
    for (MessageEntry& e : entries) {
        e.dup = 0;
        hashed += !(e.flags & MessageEntry::kHasOverride);
    }
    // Sorted by digest, then position. A key holds the digest's first 12
    // bytes as big-endian numbers (they sort as the bytes do) and sits beside
    // the others: 16 bytes a message while it lives. Only equal 96-bit
    // prefixes (copies of one message) look at the entries for the rest.
    struct Key {
        std::uint64_t hi;
        std::uint32_t mid, index;
    };
    auto tail = [&](std::uint32_t i) {
        const auto& d = entries[i].digest;
        return std::uint32_t{d[12]} << 24 | std::uint32_t{d[13]} << 16 | std::uint32_t{d[14]} << 8 | d[15];
    };
    std::vector<Key> keys;
    keys.reserve(hashed);
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
        if (entries[i].flags & MessageEntry::kHasOverride) continue;
        const auto& d = entries[i].digest;
        std::uint64_t hi = 0;
        std::uint32_t mid = 0;
        for (int b = 0; b < 8; ++b) hi = hi << 8 | d[b];
        for (int b = 8; b < 12; ++b) mid = mid << 8 | d[b];
        keys.push_back({hi, mid, i});
    }
    auto same_prefix = [](const Key& a, const Key& b) { return a.hi == b.hi && a.mid == b.mid; };
    std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
        if (!same_prefix(a, b)) return a.hi != b.hi ? a.hi < b.hi : a.mid < b.mid;
        const std::uint32_t ta = tail(a.index), tb = tail(b.index);
        return ta != tb ? ta < tb : a.index < b.index;
    });
    std::vector<std::uint32_t> plain(keys.size());
    std::size_t repeats = 0;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        plain[k] = keys[k].index;
        if (k > 0 && same_prefix(keys[k], keys[k - 1]) && tail(plain[k]) == tail(plain[k - 1])) {
            entries[plain[k]].dup = entries[plain[k - 1]].dup + 1;
            ++repeats;
        }
    }
    keys = {};
    // Overrides and repeated digests, in mailbox order.
    std::vector<std::uint32_t> special;
    special.reserve(entries.size() - plain.size() + repeats);
    for (std::uint32_t i = 0; i < entries.size(); ++i)
        if ((entries[i].flags & MessageEntry::kHasOverride) || entries[i].dup > 0) special.push_back(i);
    if (special.empty()) return;

    // The unsuffixed hashed ids are fixed; a special id that collides with one
    // of them or with an earlier special id moves on to the next suffix.
    SpecialIds ids(entries, overrides, plain, special.size());
    for (std::uint32_t i : special) ids.assign(i);
}

}  // namespace pop3d::mailbox
