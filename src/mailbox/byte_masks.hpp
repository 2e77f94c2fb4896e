// 64-byte blocks as bit masks: bit k of eq_mask(p, c) is set when p[k] == c.
// The mbox scanners find the line ends of a block this way, look at the
// bytes around each, and fall back to byte-wise code only at line starts
// that need it. SSE2 is part of every
// x86-64 CPU; elsewhere a plain loop gives the same masks.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pop3d::mailbox {

inline constexpr std::size_t kBlock = 64;

#if defined(__SSE2__)
inline std::uint64_t eq_mask(const char* p, char c) {
    const __m128i v = _mm_set1_epi8(c);
    const auto m = [&](int k) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
        return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, v))));
    };
    return m(0) | (m(1) << 16) | (m(2) << 32) | (m(3) << 48);
}
#else
inline std::uint64_t eq_mask(const char* p, char c) {
    std::uint64_t m = 0;
    for (std::size_t k = 0; k < kBlock; ++k) m |= static_cast<std::uint64_t>(p[k] == c) << k;
    return m;
}
#endif

// Index of the lowest set bit of a non-zero mask.
inline unsigned low_bit(std::uint64_t m) { return static_cast<unsigned>(__builtin_ctzll(m)); }

}  // namespace pop3d::mailbox
