#include "mailbox/sha256.hpp"

#include "mailbox/cpu_features.hpp"
#include "mailbox/sha256_blocks.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pop3d::mailbox {

namespace {

constexpr std::uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void block_portable(std::uint32_t* hs, const std::uint8_t* p) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
        w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
               (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
        const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = hs[0], b = hs[1], c = hs[2], d = hs[3], e = hs[4], f = hs[5], g = hs[6], h = hs[7];
    for (int i = 0; i < 64; ++i) {
        const std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + S1 + ch + K[i] + w[i];
        const std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = S0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    hs[0] += a; hs[1] += b; hs[2] += c; hs[3] += d;
    hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += h;
}

#if defined(__x86_64__)
// The SHA extensions (Intel since Goldmont and Ice Lake, AMD since Zen)
// compress a block in a few dozen instructions: UIDL over a large mailbox
// goes at several times the speed of the portable code below.

#define POP3D_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline

// One stream's registers: the instructions keep the state as ABEF and CDGH.
struct ShaLane {
    __m128i abef, cdgh;
    __m128i w[4];  // message words of the last four groups of four rounds
};

POP3D_SHA_TARGET void load_state(ShaLane& l, const std::uint32_t* h) {
    const __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0xB1);  // CDAB
    const __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4)), 0x1B);
    l.abef = _mm_alignr_epi8(tmp, hgfe, 8);
    l.cdgh = _mm_blend_epi16(hgfe, tmp, 0xF0);
}

POP3D_SHA_TARGET void store_state(const ShaLane& l, std::uint32_t* h) {
    const __m128i feba = _mm_shuffle_epi32(l.abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(l.cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, dchg, 0xF0));   // DCBA
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(dchg, feba, 8));  // HGFE
}

// Rounds 4t..4t+3 of the block at p.
POP3D_SHA_TARGET void round_group(ShaLane& l, const std::uint8_t* p, int t) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    if (t < 4) {
        l.w[t] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * t)), byteswap);
    } else {  // w[t..t+3] from the sixteen before them
        const __m128i prev = l.w[(t + 3) % 4];
        const __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(l.w[t % 4], l.w[(t + 1) % 4]),
                                        _mm_alignr_epi8(prev, l.w[(t + 2) % 4], 4));
        l.w[t % 4] = _mm_sha256msg2_epu32(x, prev);
    }
    __m128i msg = _mm_add_epi32(l.w[t % 4], _mm_loadu_si128(reinterpret_cast<const __m128i*>(K + 4 * t)));
    l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, msg);
    msg = _mm_shuffle_epi32(msg, 0x0E);
    l.abef = _mm_sha256rnds2_epu32(l.abef, l.cdgh, msg);
}

// Blocks of 64 bytes into h (the eight state words, in order A..H).
__attribute__((target("sha,sse4.1,ssse3"))) void blocks_sha_extensions(std::uint32_t* h, const std::uint8_t* p,
                                                                       std::size_t n) {
    ShaLane l;
    load_state(l, h);
    for (; n > 0; --n, p += 64) {
        const __m128i abef = l.abef, cdgh = l.cdgh;
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) round_group(l, p, t);
        l.abef = _mm_add_epi32(l.abef, abef);
        l.cdgh = _mm_add_epi32(l.cdgh, cdgh);
    }
    store_state(l, h);
}

// Each sha256rnds2 waits for the one before it in its stream; two streams
// interleaved keep the SHA unit busy (about 1.8x the bytes per second).
__attribute__((target("sha,sse4.1,ssse3"))) void blocks_sha_extensions_x2(std::uint32_t* ha, const std::uint8_t* pa,
                                                                          std::uint32_t* hb, const std::uint8_t* pb,
                                                                          std::size_t n) {
    ShaLane a, b;
    load_state(a, ha);
    load_state(b, hb);
    for (; n > 0; --n, pa += 64, pb += 64) {
        const __m128i abef_a = a.abef, cdgh_a = a.cdgh, abef_b = b.abef, cdgh_b = b.cdgh;
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) {
            round_group(a, pa, t);
            round_group(b, pb, t);
        }
        a.abef = _mm_add_epi32(a.abef, abef_a);
        a.cdgh = _mm_add_epi32(a.cdgh, cdgh_a);
        b.abef = _mm_add_epi32(b.abef, abef_b);
        b.cdgh = _mm_add_epi32(b.cdgh, cdgh_b);
    }
    store_state(a, ha);
    store_state(b, hb);
}
#undef POP3D_SHA_TARGET

const bool kShaExtensions = cpu::has_sha();
#endif

}  // namespace

namespace sha256 {

bool have_extensions() noexcept {
#if defined(__x86_64__)
    return kShaExtensions;
#else
    return false;
#endif
}

void blocks(std::uint32_t* h, const std::uint8_t* p, std::size_t n, bool portable) noexcept {
#if defined(__x86_64__)
    if (kShaExtensions && !portable) {
        blocks_sha_extensions(h, p, n);
        return;
    }
#endif
    for (; n > 0; --n, p += 64) block_portable(h, p);
}

void blocks_x2(std::uint32_t* ha, const std::uint8_t* pa, std::uint32_t* hb, const std::uint8_t* pb,
               std::size_t n) noexcept {
#if defined(__x86_64__)
    if (kShaExtensions) {
        blocks_sha_extensions_x2(ha, pa, hb, pb, n);
        return;
    }
#endif
    blocks(ha, pa, n, true);
    blocks(hb, pb, n, true);
}

}  // namespace sha256

void Sha256::reset() {
    std::copy_n(sha256::kInitialState, 8, h_.begin());
    buffer_.reset();
}

void Sha256::blocks(const std::uint8_t* p, std::size_t n) { sha256::blocks(h_.data(), p, n, force_portable_); }

void Sha256::update(const void* data, std::size_t len) {
    buffer_.update(data, len, [this](const std::uint8_t* p, std::size_t n) { blocks(p, n); });
}

Sha256::Digest Sha256::finish() {
    buffer_.finish(BlockBuffer::LengthOrder::big_endian, [this](const std::uint8_t* p, std::size_t n) { blocks(p, n); });
    Digest out;
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * j));
    return out;
}

}  // namespace pop3d::mailbox
