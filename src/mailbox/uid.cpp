#include "mailbox/uid.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_set>

namespace pop3d::mailbox {

namespace {

constexpr std::size_t kMaxXuidlBytes = 256;

std::string hex(const std::array<std::uint8_t, 16>& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(32, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        s[2 * i] = digits[d[i] >> 4];
        s[2 * i + 1] = digits[d[i] & 15];
    }
    return s;
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

}  // namespace

bool valid_uid(std::string_view uid) noexcept {
    if (uid.empty() || uid.size() > kMaxUidLength) return false;
    for (unsigned char c : uid)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

void UidHasher::begin() {
    sha_.reset();
    state_ = State::from_line;
    field_action_ = Action::include;
    name_len_ = 0;
    head_len_ = 0;
    seen_xuidl_ = false;
    xuidl_valid_ = false;
    xuidl_.clear();
}

void UidHasher::decide_field() {
    std::string_view name(name_, name_len_);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    field_action_ = Action::include;
    for (std::string_view v : kVolatileHeaders)
        if (text::iequals(name, v)) field_action_ = Action::exclude;
    if (!seen_xuidl_ && text::iequals(name, "X-UIDL")) {
        seen_xuidl_ = true;
        xuidl_valid_ = true;
        field_action_ = Action::xuidl;
    }
}

void UidHasher::feed(const char* p, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        switch (state_) {
        case State::from_line: {
            for (std::size_t k = i; k < n && head_len_ < sizeof head_; ++k) head_[head_len_++] = p[k];
            const void* hit = std::memchr(p + i, '\n', n - i);
            const std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) + 1 : n;
            hash(p + i, end - i);
            i = end;
            if (hit) state_ = State::line_start;
            break;
        }
        case State::line_start: {
            const char c = p[i];
            if (c == ' ' || c == '\t') {
                if (field_action_ == Action::xuidl) {
                    xuidl_valid_ = false;  // folded X-UIDL: not a usable id
                    field_action_ = Action::include;
                }
                state_ = field_action_ == Action::exclude ? State::exclude : State::include;
            } else if (c == '\n') {
                hash(p + i, 1);
                ++i;
                state_ = State::body;
            } else {
                name_len_ = 0;
                state_ = State::collect;
            }
            break;
        }
        case State::collect: {
            const char c = p[i];
            if (c == ':') {
                decide_field();
                if (field_action_ != Action::exclude) {
                    hash(name_, name_len_);
                    hash(p + i, 1);
                }
                ++i;
                state_ = field_action_ == Action::exclude ? State::exclude
                         : field_action_ == Action::xuidl ? State::xuidl
                                                          : State::include;
            } else if (c == '\n') {
                hash(name_, name_len_);
                hash(p + i, 1);
                ++i;
                const bool blank = name_len_ == 1 && name_[0] == '\r';
                field_action_ = Action::include;
                state_ = blank ? State::body : State::line_start;
            } else if (name_len_ < sizeof name_) {
                name_[name_len_++] = c;
                ++i;
            } else {  // longer than any volatile header name
                hash(name_, name_len_);
                field_action_ = Action::include;
                state_ = State::include;
            }
            break;
        }
        case State::include:
        case State::exclude:
        case State::xuidl: {
            const void* hit = std::memchr(p + i, '\n', n - i);
            const std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) + 1 : n;
            if (state_ != State::exclude) hash(p + i, end - i);
            if (state_ == State::xuidl) {
                if (xuidl_.size() + (end - i) > kMaxXuidlBytes) xuidl_valid_ = false;
                else xuidl_.append(p + i, end - i);
            }
            i = end;
            if (hit) state_ = State::line_start;
            break;
        }
        case State::body:
            hash(p + i, n - i);
            i = n;
            break;
        }
    }
}

bool UidHasher::finish(MessageEntry& entry, std::string& override_uid) {
    const auto digest = sha_.finish();
    std::copy_n(digest.begin(), entry.digest.size(), entry.digest.begin());
    entry.dup = 0;
    entry.flags &= ~MessageEntry::kHasOverride;
    override_uid.clear();
    if (xuidl_valid_) {
        const std::string_view v = text::trim(xuidl_);
        if (valid_uid(v)) {
            override_uid.assign(v);
            entry.flags |= MessageEntry::kHasOverride;
        }
    }
    return head_len_ == 5 && std::memcmp(head_, "From ", 5) == 0;
}

std::string render_uid(const MessageEntry& entry, const UidOverrides& overrides, std::uint32_t index) {
    std::string base;
    if (entry.flags & MessageEntry::kHasOverride) {
        const auto it = overrides.find(index);
        base = it != overrides.end() ? it->second : hex(entry.digest);
    } else {
        base = hex(entry.digest);
    }
    if (entry.dup == 0) return base;
    const std::string suffix = "." + std::to_string(entry.dup + 1);
    if (base.size() + suffix.size() > kMaxUidLength) base.resize(kMaxUidLength - suffix.size());
    return base + suffix;
}

void make_uids_unique(std::span<MessageEntry> entries, const UidOverrides& overrides) {
    // Plain hashed ids first: equal digests are byte-identical messages; all but
    // the first (in mailbox order) get a suffix.
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
    std::vector<std::uint32_t> special;  // overrides and suffixed ids, checked by string
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

    // The unsuffixed hashed ids are fixed; a special id that collides with one
    // of them or with an earlier special id moves on to the next suffix.
    auto plain_taken = [&](const std::string& s) {
        std::array<std::uint8_t, 16> d{};
        if (!parse_hex(s, d)) return false;
        const auto it = std::lower_bound(plain.begin(), plain.end(), d, [&](std::uint32_t a, const auto& key) {
            return std::memcmp(entries[a].digest.data(), key.data(), 16) < 0;
        });
        return it != plain.end() && std::memcmp(entries[*it].digest.data(), d.data(), 16) == 0 &&
               entries[*it].dup == 0;
    };
    std::unordered_set<std::string> taken;
    for (std::uint32_t i : special) {
        std::string s = render_uid(entries[i], overrides, i);
        while (taken.count(s) || plain_taken(s)) {
            ++entries[i].dup;
            s = render_uid(entries[i], overrides, i);
        }
        taken.insert(std::move(s));
    }
}

}  // namespace pop3d::mailbox
