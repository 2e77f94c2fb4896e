// Digests as the lower-case hex the tests compare with.
#pragma once

#include "mailbox/sha256.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace pop3d::testing {

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& d) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (const auto b : d) {
        s.push_back(kDigits[b >> 4]);
        s.push_back(kDigits[b & 15]);
    }
    return s;
}

// SHA-256 of s in one stream, as hex.
inline std::string sha256_hex(const std::string& s) {
    mailbox::Sha256 h;
    h.update(s.data(), s.size());
    return hex(h.finish());
}

}  // namespace pop3d::testing
