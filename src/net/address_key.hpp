// The one rule for client addresses: the plain text every log line shows
// (what fail2ban's <HOST> matches) and the key the per-address limits
// count under. A client cannot escape a limit by spelling its address
// another way: an IPv6 zone ("fe80::2%lo") is dropped, a v4-mapped address
// is its IPv4 address, and IPv6 counts per /64, which one host usually
// owns (so every link-local client of a link shares fe80::/64's count).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pop3d::net {

// 16 bytes: IPv4 as ::ffff:a.b.c.d, IPv6 with its last 64 bits zeroed.
using AddressKey = std::array<std::uint8_t, 16>;

// Canonical numeric text: "192.0.2.1", "2001:db8::1" (no zone, lower
// case, shortest form). Text that is no numeric address comes back as it is.
std::string plain_address(std::string_view text);

// The limit key of a numeric address (zone and v4-mapping as above);
// nullopt for text that is no address.
std::optional<AddressKey> address_key(std::string_view text);

// The key as text, for maps: "192.0.2.1", "2001:db8:1:2::/64"; text that
// is no address keys as itself.
std::string address_key_text(std::string_view text);

// The plain text of a socket address (AF_INET, AF_INET6); "" for others.
std::string socket_address_text(const sockaddr* address, socklen_t length);

}  // namespace pop3d::net
