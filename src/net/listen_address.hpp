// Listen addresses as admins write them: "127.0.0.1:110", "[::1]:995",
// "*:110" (every IPv4 and IPv6 address), ":1110", "0.0.0.0", "[::]".
// The port defaults to 110. A "/tls" suffix makes it an implicit-TLS
// (pop3s, RFC 8314) listener: "*:995/tls". Numeric addresses only.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pop3d::net {

struct ListenAddress {
    int family = AF_UNSPEC;  // AF_INET, AF_INET6, or AF_UNSPEC for "*"
    std::string host;        // numeric, empty for "*"
    std::uint16_t port = 110;
    bool tls = false;        // implicit TLS from the first byte
    std::string text() const;
};

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* error);

// A list separated by spaces or commas; "*" entries stay AF_UNSPEC here and
// become one IPv6 and one IPv4 socket when bound.
std::optional<std::vector<ListenAddress>> parse_listen_list(std::string_view text, std::string* error);

}  // namespace pop3d::net
