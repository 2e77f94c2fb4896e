// SHA-256 (FIPS 180-4), streaming. Used for UIDs: they must never change, so
// the function is fixed and carries no key.
#pragma once

#include "mailbox/block_buffer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace pop3d::mailbox {

class Sha256 {
public:
    using Digest = std::array<std::uint8_t, 32>;
    Sha256() { reset(); }
    void reset();
    void update(const void* data, std::size_t len);
    Digest finish();

    // Tests: the portable code even where the CPU has SHA instructions.
    void force_portable() { force_portable_ = true; }

private:
    void blocks(const std::uint8_t* p, std::size_t n);
    std::array<std::uint32_t, 8> h_{};
    BlockBuffer buffer_;
    bool force_portable_ = false;
};

}  // namespace pop3d::mailbox
