#include "mailbox/md5.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace pop3d::mailbox {

namespace {

// RFC 1321 3.4: T[i] = floor(2^32 * |sin(i + 1)|), computed once.
struct SineTable {
    std::array<std::uint32_t, 64> t{};
    SineTable() {
        for (int i = 0; i < 64; ++i)
            t[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(std::floor(4294967296.0 * std::fabs(std::sin(i + 1.0))));
    }
};
const SineTable kSine;

// Per round: the left rotations of its four steps (RFC 1321 3.4).
constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

std::uint32_t load_le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

void Md5::reset() {
    h_ = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    buffer_.reset();
}

void Md5::block(const std::uint8_t* p) {
    std::uint32_t x[16];
    for (int i = 0; i < 16; ++i) x[i] = load_le32(p + 4 * i);
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    for (int i = 0; i < 64; ++i) {
        const int round = i / 16;
        std::uint32_t f;
        int k;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) % 16; break;
        case 2: f = b ^ c ^ d; k = (3 * i + 5) % 16; break;
        default: f = c ^ (b | ~d); k = (7 * i) % 16; break;
        }
        const std::uint32_t sum = a + f + x[k] + kSine.t[static_cast<std::size_t>(i)];
        a = d;
        d = c;
        c = b;
        b = b + std::rotl(sum, kShift[round][i % 4]);
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
}

void Md5::update(const void* data, std::size_t len) {
    buffer_.update(data, len, [this](const std::uint8_t* p, std::size_t n) {
        for (; n > 0; --n, p += BlockBuffer::kBlock) block(p);
    });
}

Md5::Digest Md5::finish() {
    buffer_.finish(BlockBuffer::LengthOrder::little_endian, [this](const std::uint8_t* p, std::size_t n) {
        for (; n > 0; --n, p += BlockBuffer::kBlock) block(p);
    });
    Digest out;
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (8 * j));
    reset();
    return out;
}

}  // namespace pop3d::mailbox
