// A keyed digest of a byte range, taken when a mailbox is indexed and
// taken again before an expunge: equal digests prove, short of a 2^-100
// chance, that nobody rewrote a byte in between (docs/DESIGN.md, "Snapshot
// and expunge"). From_ lines at their old offsets are not enough: a mail
// reader deleting in place and a delivery landing at the freed offset leave
// them there.
//
// The hash is POLYVAL (RFC 8452): a polynomial over GF(2^128) evaluated at
// a random secret point H, one 16-byte block at a time, followed by a block
// holding the length. For two different inputs of at most n blocks the
// digests are equal for at most n+1 of the 2^128 keys, whatever the inputs;
// the key is made per maildrop and never leaves the process, so nobody who
// writes mail can aim at it. With the x86 carry-less multiply it runs at
// several GB/s (four blocks an instruction where AVX-512 has it); elsewhere
// a portable (slower) multiply gives the same values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace pop3d::mailbox {

class ContentDigest {
public:
    using Key = std::array<std::uint8_t, 16>;
    using Value = std::array<std::uint8_t, 16>;

    // A fresh random non-zero key (getrandom); nullopt if the kernel gives
    // no randomness (then there is no proof, and nothing may be deleted).
    static std::optional<Key> random_key();

    explicit ContentDigest(const Key& key);
    void update(const char* data, std::size_t len);
    // The digest of everything fed since construction or reset().
    Value finish() const;
    // Takes `next`'s bytes as if they had been fed here after ours: the
    // same digest as one object fed both, so that two threads can each take
    // one part of a file. Both have the same key, and ours ends on a block
    // boundary (a multiple of 16 bytes fed).
    void append(const ContentDigest& next);
    void reset();

    // POLYVAL's field product dot(a, b) = a * b * x^-128 on little-endian
    // 16-byte blocks, bit by bit: the reference the tests compare with.
    static Value dot_reference(const Value& a, const Value& b);

    // The ways to compute it, fastest last; the best this CPU has is used.
    // Tests switch between those available to check each one.
    enum class Engine { portable, clmul, vclmul };
    static Engine best_engine();
    static void use_engine(Engine engine);

    struct U128 {
        std::uint64_t lo = 0, hi = 0;
    };

private:
    void absorb_blocks(const std::uint8_t* p, std::size_t blocks);

    U128 powers_[16];  // H, H^2 ... H^16 (in dot's sense)
    U128 acc_;
    std::uint8_t pending_[16];
    std::size_t pending_len_ = 0;
    std::uint64_t total_ = 0;
};

}  // namespace pop3d::mailbox
