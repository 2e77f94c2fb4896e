#include "mailbox/content_digest.hpp"

#include "mailbox/cpu_features.hpp"

#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pop3d::mailbox {

namespace {

using U128 = ContentDigest::U128;

U128 load(const std::uint8_t* p) {
    U128 v;
    std::memcpy(&v.lo, p, 8);
    std::memcpy(&v.hi, p + 8, 8);
    return v;
}

void store(const U128& v, std::uint8_t* p) {
    std::memcpy(p, &v.lo, 8);
    std::memcpy(p + 8, &v.hi, 8);
}

// dot(a, b) = a * b * x^-128 mod x^128 + x^127 + x^126 + x^121 + 1, one
// bit of a at a time: add b, then divide by x (adding the polynomial first
// when the constant term is set). Branch-free on the data.
U128 dot_portable(const U128& a, const U128& b) {
    U128 r;
    for (int i = 0; i < 128; ++i) {
        const std::uint64_t bit = (i < 64 ? a.lo >> i : a.hi >> (i - 64)) & 1;
        const std::uint64_t take = 0 - bit;
        r.lo ^= b.lo & take;
        r.hi ^= b.hi & take;
        const std::uint64_t odd = 0 - (r.lo & 1);
        r.lo ^= 1 & odd;
        r.hi ^= ((1ULL << 57) | (1ULL << 62) | (1ULL << 63)) & odd;  // x^121, x^126, x^127
        r.lo = (r.lo >> 1) | (r.hi << 63);
        r.hi = (r.hi >> 1) | ((1ULL << 63) & odd);  // x^128 / x
    }
    return r;
}

#if defined(__x86_64__)
const bool kHaveClmul = cpu::has_clmul();

#define POP3D_CLMUL __attribute__((target("pclmul,sse4.1")))

POP3D_CLMUL inline __m128i as_m128(const U128& v) {
    return _mm_set_epi64x(static_cast<long long>(v.hi), static_cast<long long>(v.lo));
}

// The unreduced 256-bit product a * b, added into lo, mid (the cross terms) and hi.
POP3D_CLMUL inline void mul_add(__m128i a, __m128i b, __m128i& lo, __m128i& mid, __m128i& hi) {
    lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(a, b, 0x00));
    hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(a, b, 0x11));
    mid = _mm_xor_si128(mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01)));
}

// Product * x^-128 mod the polynomial: two Montgomery steps of 64 bits.
POP3D_CLMUL inline __m128i reduce(__m128i lo, __m128i mid, __m128i hi) {
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    const __m128i poly = _mm_set_epi64x(static_cast<long long>(0xc200000000000000ULL), 1);
    for (int step = 0; step < 2; ++step)
        lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), _mm_clmulepi64_si128(lo, poly, 0x10));
    return _mm_xor_si128(hi, lo);
}

POP3D_CLMUL U128 dot_clmul(const U128& a, const U128& b) {
    __m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;
    mul_add(as_m128(a), as_m128(b), lo, mid, hi);
    U128 r;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&r), reduce(lo, mid, hi));
    return r;
}

// Eight blocks per reduction: acc' = (acc + X1) H^8 + X2 H^7 + ... + X8 H,
// each product with three multiplies (Karatsuba: the cross terms are
// (a.lo + a.hi)(b.lo + b.hi) - lo - hi).
POP3D_CLMUL U128 absorb_clmul(U128 acc_in, const U128* powers, const std::uint8_t* p, std::size_t blocks) {
    __m128i acc = as_m128(acc_in);
    __m128i h[8], hk[8];  // the powers, and each one's two halves added
    for (int k = 0; k < 8; ++k) {
        h[k] = as_m128(powers[k]);
        hk[k] = _mm_xor_si128(h[k], _mm_shuffle_epi32(h[k], 0x4e));
    }
    for (; blocks >= 8; blocks -= 8, p += 128) {
        __m128i lo = _mm_setzero_si128(), cross = lo, hi = lo;
        for (int k = 0; k < 8; ++k) {
            __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
            if (k == 0) x = _mm_xor_si128(x, acc);
            lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(x, h[7 - k], 0x00));
            hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(x, h[7 - k], 0x11));
            cross = _mm_xor_si128(cross, _mm_clmulepi64_si128(_mm_xor_si128(x, _mm_shuffle_epi32(x, 0x4e)), hk[7 - k], 0x00));
        }
        acc = reduce(lo, _mm_xor_si128(cross, _mm_xor_si128(lo, hi)), hi);
    }
    for (; blocks > 0; --blocks, p += 16) {
        __m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;
        mul_add(_mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), acc), h[0], lo, mid, hi);
        acc = reduce(lo, mid, hi);
    }
    U128 r;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&r), acc);
    return r;
}

// GCC 12's AVX-512 headers fill "don't care" operands with a
// self-initialised variable, which -Wmaybe-uninitialized reports.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define POP3D_VCLMUL __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1")))

const bool kHaveVclmul = cpu::has_vclmul();

// The four 128-bit lanes added: swap halves and add, swap neighbours and add.
POP3D_VCLMUL inline __m128i fold_lanes(__m512i v) {
    v = _mm512_xor_si512(v, _mm512_shuffle_i64x2(v, v, 0x4e));
    v = _mm512_xor_si512(v, _mm512_shuffle_i64x2(v, v, 0xb1));
    return _mm512_castsi512_si128(v);
}

// Sixteen blocks per reduction, four to an instruction: block k of the 256
// bytes is multiplied by H^(16-k), the 256-bit products added lane-wise,
// the four lanes folded, and the sum reduced once.
POP3D_VCLMUL U128 absorb_vclmul(U128 acc_in, const U128* powers, const std::uint8_t* p, std::size_t blocks) {
    __m512i h[4];  // h[j] lane l = H^(16 - 4j - l)
    for (int j = 0; j < 4; ++j)
        h[j] = _mm512_set_epi64(static_cast<long long>(powers[12 - 4 * j].hi), static_cast<long long>(powers[12 - 4 * j].lo),
                                static_cast<long long>(powers[13 - 4 * j].hi), static_cast<long long>(powers[13 - 4 * j].lo),
                                static_cast<long long>(powers[14 - 4 * j].hi), static_cast<long long>(powers[14 - 4 * j].lo),
                                static_cast<long long>(powers[15 - 4 * j].hi), static_cast<long long>(powers[15 - 4 * j].lo));
    __m128i acc = as_m128(acc_in);
    for (; blocks >= 16; blocks -= 16, p += 256) {
        __m512i lo = _mm512_setzero_si512(), mid = lo, hi = lo;
        for (int j = 0; j < 4; ++j) {
            __m512i x = _mm512_loadu_si512(p + 64 * j);
            if (j == 0) x = _mm512_xor_si512(x, _mm512_inserti32x4(_mm512_setzero_si512(), acc, 0));
            lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, h[j], 0x00));
            hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, h[j], 0x11));
            mid = _mm512_xor_si512(mid, _mm512_xor_si512(_mm512_clmulepi64_epi128(x, h[j], 0x10),
                                                         _mm512_clmulepi64_epi128(x, h[j], 0x01)));
        }
        acc = reduce(fold_lanes(lo), fold_lanes(mid), fold_lanes(hi));
    }
    U128 r;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&r), acc);
    return blocks > 0 ? absorb_clmul(r, powers, p, blocks) : r;
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

ContentDigest::Engine best() {
#if defined(__x86_64__)
    if (kHaveVclmul) return ContentDigest::Engine::vclmul;
    if (kHaveClmul) return ContentDigest::Engine::clmul;
#endif
    return ContentDigest::Engine::portable;
}

std::atomic<ContentDigest::Engine> g_engine{best()};

U128 dot(const U128& a, const U128& b) {
#if defined(__x86_64__)
    if (g_engine.load(std::memory_order_relaxed) != ContentDigest::Engine::portable) return dot_clmul(a, b);
#endif
    return dot_portable(a, b);
}

}  // namespace

std::optional<ContentDigest::Key> ContentDigest::random_key() {
    Key key{};
    for (int attempt = 0; attempt < 4; ++attempt) {
        std::size_t got = 0;
        while (got < key.size()) {
            const ssize_t n = ::getrandom(key.data() + got, key.size() - got, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            got += static_cast<std::size_t>(n);
        }
        for (std::uint8_t b : key)
            if (b != 0) return key;  // H = 0 would make every digest equal
    }
    return std::nullopt;
}

ContentDigest::ContentDigest(const Key& key) {
    powers_[0] = load(key.data());
    for (int k = 1; k < 16; ++k) powers_[k] = dot(powers_[k - 1], powers_[0]);
}

void ContentDigest::reset() {
    acc_ = {};
    pending_len_ = 0;
    total_ = 0;
}

void ContentDigest::absorb_blocks(const std::uint8_t* p, std::size_t blocks) {
#if defined(__x86_64__)
    switch (g_engine.load(std::memory_order_relaxed)) {
    case Engine::vclmul: acc_ = absorb_vclmul(acc_, powers_, p, blocks); return;
    case Engine::clmul: acc_ = absorb_clmul(acc_, powers_, p, blocks); return;
    case Engine::portable: break;
    }
#endif
    for (; blocks > 0; --blocks, p += 16) {
        const U128 x = load(p);
        acc_ = dot(U128{acc_.lo ^ x.lo, acc_.hi ^ x.hi}, powers_[0]);
    }
}

void ContentDigest::update(const char* data, std::size_t len) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(data);
    total_ += len;
    if (pending_len_ > 0) {
        const std::size_t take = std::min(len, sizeof pending_ - pending_len_);
        std::memcpy(pending_ + pending_len_, p, take);
        pending_len_ += take;
        p += take;
        len -= take;
        if (pending_len_ < sizeof pending_) return;
        absorb_blocks(pending_, 1);
        pending_len_ = 0;
    }
    absorb_blocks(p, len / 16);
    std::memcpy(pending_, p + len / 16 * 16, len % 16);
    pending_len_ = len % 16;
}

ContentDigest::Value ContentDigest::finish() const {
    ContentDigest copy = *this;
    if (copy.pending_len_ > 0) {  // the last partial block, padded with zeros
        std::memset(copy.pending_ + copy.pending_len_, 0, sizeof pending_ - copy.pending_len_);
        copy.absorb_blocks(copy.pending_, 1);
    }
    std::uint8_t length[16] = {};  // the length in bits, as GCM and GCM-SIV end
    const std::uint64_t bits = total_ * 8;
    std::memcpy(length, &bits, 8);
    copy.absorb_blocks(length, 1);
    Value out;
    store(copy.acc_, out.data());
    return out;
}

// Horner's rule: after b more blocks, what was accumulated has been
// multiplied by H b times. So acc(A || B) = acc(A) . H^b + acc(B), with
// H^b by squaring (dot is associative and commutative).
void ContentDigest::append(const ContentDigest& next) {
    std::uint64_t blocks = (next.total_ - next.pending_len_) / 16;
    U128 power = powers_[0], factor{};
    bool have = false;
    for (; blocks > 0; blocks >>= 1) {
        if (blocks & 1) {
            factor = have ? dot(factor, power) : power;
            have = true;
        }
        if (blocks > 1) power = dot(power, power);
    }
    if (have) acc_ = dot(acc_, factor);
    acc_.lo ^= next.acc_.lo;
    acc_.hi ^= next.acc_.hi;
    std::memcpy(pending_, next.pending_, next.pending_len_);
    pending_len_ = next.pending_len_;
    total_ += next.total_;
}

ContentDigest::Engine ContentDigest::best_engine() { return best(); }

void ContentDigest::use_engine(Engine engine) {
    if (engine <= best()) g_engine.store(engine);
}

ContentDigest::Value ContentDigest::dot_reference(const Value& a, const Value& b) {
    Value out;
    store(dot_portable(load(a.data()), load(b.data())), out.data());
    return out;
}

}  // namespace pop3d::mailbox
