#include "net/address_match.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace pop3d::net {

namespace {

// Any numeric address as 16 bytes; IPv4 as ::ffff:a.b.c.d. *v4 says which.
std::optional<std::array<unsigned char, 16>> to_bytes(std::string_view text, bool* v4) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    const std::string s(text);
    std::array<unsigned char, 16> out{};
    in_addr a4{};
    if (::inet_pton(AF_INET, s.c_str(), &a4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &a4, 4);
        *v4 = true;
        return out;
    }
    if (::inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
        *v4 = false;
        return out;
    }
    return std::nullopt;
}

bool same_prefix(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b, unsigned bits) {
    const unsigned whole = bits / 8, rest = bits % 8;
    if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<NetworkList> NetworkList::parse(std::string_view text, std::string* error) {
    NetworkList list;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find_first_of(" \t,", at);
        const std::string_view item = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? text.size() : end + 1;
        if (item.empty()) continue;
        const std::size_t slash = item.find('/');
        bool v4 = false;
        const auto bytes = to_bytes(item.substr(0, slash), &v4);
        if (!bytes) {
            if (error) *error = "'" + std::string(item) + "' is not a numeric address or network";
            return std::nullopt;
        }
        const unsigned max_bits = v4 ? 32 : 128;
        unsigned bits = max_bits;
        if (slash != std::string_view::npos) {
            const std::string_view digits = item.substr(slash + 1);
            bits = 0;
            bool ok = !digits.empty() && digits.size() <= 3;
            for (char c : digits) {
                ok = ok && c >= '0' && c <= '9';
                if (ok) bits = bits * 10 + static_cast<unsigned>(c - '0');
            }
            if (!ok || bits > max_bits) {
                if (error) *error = "'" + std::string(item) + "' has a bad prefix length (0-" + std::to_string(max_bits) + ")";
                return std::nullopt;
            }
        }
        list.networks_.push_back({*bytes, v4 ? bits + 96 : bits});
    }
    return list;
}

bool NetworkList::contains(std::string_view address) const {
    bool v4 = false;
    const auto bytes = to_bytes(address, &v4);
    if (!bytes) return false;
    for (const Network& n : networks_)
        if (same_prefix(*bytes, n.bytes, n.bits)) return true;
    return false;
}

}  // namespace pop3d::net
