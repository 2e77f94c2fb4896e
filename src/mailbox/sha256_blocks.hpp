// The SHA-256 compression function alone, for Sha256 and Sha256Lanes:
// h holds the eight state words A..H; p, n whole 64-byte blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pop3d::mailbox::sha256 {

inline constexpr std::uint32_t kInitialState[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// Whether this CPU has the SHA extensions (checked once, at start-up).
bool have_extensions() noexcept;
// One stream; the SHA instructions where the CPU has them, unless portable.
void blocks(std::uint32_t* h, const std::uint8_t* p, std::size_t n, bool portable = false) noexcept;
// Two independent streams of n blocks each, interleaved so that each
// stream's rounds run while the other's wait on their latency (without the
// SHA extensions: one after the other).
void blocks_x2(std::uint32_t* ha, const std::uint8_t* pa, std::uint32_t* hb, const std::uint8_t* pb,
               std::size_t n) noexcept;

}  // namespace pop3d::mailbox::sha256
