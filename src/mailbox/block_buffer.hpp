// What MD5 and SHA-256 share (Merkle-Damgard over 64-byte blocks): input is
// gathered into whole blocks for the compression function, and the end is
// padded with 0x80, zeros and the message's length in bits.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pop3d::mailbox {

class BlockBuffer {
public:
    static constexpr std::size_t kBlock = 64;
    enum class LengthOrder { little_endian, big_endian };  // MD5, SHA-256

    void reset() {
        buffered_ = 0;
        total_ = 0;
    }
    // compress(p, n): n whole blocks at p.
    template <class Compress>
    void update(const void* data, std::size_t len, Compress&& compress) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        total_ += len;
        if (buffered_ > 0) {
            const std::size_t take = std::min(len, kBlock - buffered_);
            std::memcpy(buf_.data() + buffered_, p, take);
            buffered_ += take;
            p += take;
            len -= take;
            if (buffered_ < kBlock) return;
            compress(buf_.data(), 1);
            buffered_ = 0;
        }
        if (len >= kBlock) {
            compress(p, len / kBlock);
            p += len / kBlock * kBlock;
            len %= kBlock;
        }
        std::memcpy(buf_.data(), p, len);
        buffered_ = len;
    }
    // The padding, through compress; the buffer is empty afterwards.
    template <class Compress>
    void finish(LengthOrder order, Compress&& compress) {
        const std::uint64_t bits = total_ * 8;
        std::uint8_t pad[2 * kBlock] = {0x80};
        const std::size_t pad_len = (buffered_ < 56 ? 56 : 120) - buffered_;
        for (std::size_t i = 0; i < 8; ++i)
            pad[pad_len + i] = static_cast<std::uint8_t>(
                order == LengthOrder::little_endian ? bits >> (8 * i) : bits >> (56 - 8 * i));
        update(pad, pad_len + 8, compress);
    }

private:
    std::array<std::uint8_t, kBlock> buf_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_ = 0;
};

}  // namespace pop3d::mailbox
