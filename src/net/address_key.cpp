#include "net/address_key.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace pop3d::net {

namespace {

enum class Family { none, v4, v6 };

// Parses numeric text into 16 bytes (IPv4 and v4-mapped as ::ffff:a.b.c.d);
// an IPv6 zone is ignored: the same host on any interface is one client.
Family parse(std::string_view text, AddressKey& out) {
    if (const std::size_t zone = text.find('%'); zone != std::string_view::npos && text.find(':') < zone)
        text = text.substr(0, zone);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
        return Family::none;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    out = {};
    in_addr v4{};
    if (::inet_pton(AF_INET, buf, &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return Family::v4;
    }
    if (::inet_pton(AF_INET6, buf, out.data()) != 1) return Family::none;
    const bool mapped =
        std::all_of(out.begin(), out.begin() + 10, [](std::uint8_t b) { return b == 0; }) && out[10] == 0xff &&
        out[11] == 0xff;
    return mapped ? Family::v4 : Family::v6;
}

std::string format(Family family, const AddressKey& bytes) {
    char text[INET6_ADDRSTRLEN];
    const void* raw = family == Family::v4 ? static_cast<const void*>(bytes.data() + 12) : bytes.data();
    if (::inet_ntop(family == Family::v4 ? AF_INET : AF_INET6, raw, text, sizeof text) == nullptr) return {};
    return text;
}

}  // namespace

std::string plain_address(std::string_view text) {
    AddressKey bytes;
    const Family family = parse(text, bytes);
    if (family == Family::none) return std::string(text);
    return format(family, bytes);
}

std::optional<AddressKey> address_key(std::string_view text) {
    AddressKey bytes;
    const Family family = parse(text, bytes);
    if (family == Family::none) return std::nullopt;
    if (family == Family::v6) std::fill(bytes.begin() + 8, bytes.end(), 0);
    return bytes;
}

std::string address_key_text(std::string_view text) {
    AddressKey bytes;
    const Family family = parse(text, bytes);
    if (family == Family::none) return std::string(text);
    if (family == Family::v4) return format(family, bytes);
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return format(family, bytes) + "/64";
}

std::string socket_address_text(const sockaddr* address, socklen_t length) {
    char text[INET6_ADDRSTRLEN];
    if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(address);
        if (::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text) == nullptr) return {};
        return text;
    }
    if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        // inet_ntop leaves out sin6_scope_id, which getnameinfo would add as "%lo".
        const auto* a = reinterpret_cast<const sockaddr_in6*>(address);
        if (::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text) == nullptr) return {};
        return plain_address(text);  // v4-mapped: dotted IPv4
    }
    return {};
}

}  // namespace pop3d::net
