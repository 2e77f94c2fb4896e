// The mbox grammar, in one place: what a line end is, what an empty line
// is, what a From_ line and a quoted From line are, and the 64-byte fast
// path that finds line ends. The indexer (mbox_index), the RETR/TOP encoder
// (message_encoder), the UID hasher (uid) and the expunge's checks
// (snapshot) all read mbox text through these, so a change to any rule is
// made here once. Which header fields matter is each reader's own business.
//
// Lines end in LF; "\r\n" is an LF after a CR, and an LF without a CR
// before it is "bare": on the wire it becomes CRLF, so a message's size is
// its bytes plus its bare LFs. A line that starts with "From " (at the
// start of the file or right after LF) begins a message; ">From ",
// ">>From "... are quoted From lines (mboxrd: one '>' comes off when sent).
#pragma once

#include "mailbox/byte_masks.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pop3d::mailbox::mbox {

inline constexpr std::string_view kFromLine = "From ";

// Whether bytes [0, len) start with a From_ line's first bytes.
inline bool starts_with_from_line(const char* bytes, std::size_t len) {
    return len >= kFromLine.size() && std::memcmp(bytes, kFromLine.data(), kFromLine.size()) == 0;
}

// A line of `len` bytes before its LF is empty when it is "" or "\r".
inline bool empty_line(std::uint64_t len, bool bare) { return len == 0 || (len == 1 && !bare); }

// An LF is bare when the byte before it is not CR.
inline bool bare_lf(char before) { return before != '\r'; }

// What a message that ends inside a line (no final LF) gets on the wire:
// LF after a trailing CR, else CRLF; nothing when it ends with LF.
inline std::string_view missing_line_end(char last_byte) {
    return last_byte == '\n' ? std::string_view{} : last_byte == '\r' ? std::string_view{"\n"} : std::string_view{"\r\n"};
}

// Recognises ">"* "From " at a line start, one byte at a time, across
// chunk boundaries.
class FromMatcher {
public:
    enum class Step {
        more,       // the byte was consumed; the line may still be one
        from_line,  // the byte was consumed and completed ">"* "From "
        other,      // the byte (not consumed) shows the line is neither
    };
    void reset() {
        gts_ = 0;
        matched_ = 0;
    }
    Step step(char c) {
        if (matched_ == 0 && c == '>') {
            ++gts_;
            return Step::more;
        }
        if (c != kFromLine[matched_]) return Step::other;
        return ++matched_ == kFromLine.size() ? Step::from_line : Step::more;
    }
    // The '>' consumed: 0 for a From_ line, more for a quoted From line.
    std::uint64_t gts() const { return gts_; }
    // The bytes of "From " consumed so far.
    std::string_view matched() const { return kFromLine.substr(0, matched_); }

private:
    std::uint64_t gts_ = 0;
    std::size_t matched_ = 0;
};

// The line ends of one 64-byte block, in order: at(k, bare) for the LF at
// p[k]; `before` is the byte before the block. Stops at the first LF for
// which `at` returns true and returns k + 1 (the next line's start), else
// 0. The fast paths
// run this and leave to byte-wise code only the line starts that need it
// (at() looks at p[k + 1], which the caller must keep in reach).
template <class AtLineEnd>
inline std::size_t each_line_end(const char* p, char before, AtLineEnd&& at) {
    for (std::uint64_t nl = eq_mask(p, '\n'); nl != 0; nl &= nl - 1) {
        const unsigned k = low_bit(nl);
        if (at(k, bare_lf(k > 0 ? p[k - 1] : before))) return k + 1;
    }
    return 0;
}

// The bare LFs of one 64-byte block (`before`: the byte before it).
inline std::uint64_t bare_lfs(const char* p, char before) {
    const std::uint64_t nl = eq_mask(p, '\n');
    if (nl == 0) return 0;
    const std::uint64_t after_cr = (eq_mask(p, '\r') << 1) | (before == '\r' ? 1 : 0);
    return static_cast<std::uint64_t>(__builtin_popcountll(nl & ~after_cr));
}

// The offset of the next LF in p[i, n), or n.
inline std::size_t find_lf(const char* p, std::size_t i, std::size_t n) {
    const void* hit = std::memchr(p + i, '\n', n - i);
    return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) : n;
}

}  // namespace pop3d::mailbox::mbox
