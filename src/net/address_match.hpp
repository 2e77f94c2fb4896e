// Lists of networks as admins write them: "127.0.0.1 10.0.0.0/8
// 2001:db8::/32", separated by spaces or commas. Numeric only: a name
// would make trust depend on DNS.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pop3d::net {

class NetworkList {
public:
    // nullopt and *error set when an entry is not ADDRESS or ADDRESS/BITS.
    static std::optional<NetworkList> parse(std::string_view text, std::string* error);
    // address: numeric, as net::peer_address() prints it. An IPv4 address
    // also matches as ::ffff:a.b.c.d, so either spelling of a rule works.
    bool contains(std::string_view address) const;
    bool empty() const { return networks_.empty(); }

private:
    struct Network {
        std::array<unsigned char, 16> bytes{};  // IPv6, or IPv4 mapped
        unsigned bits = 0;                      // prefix length over the 16 bytes
    };
    std::vector<Network> networks_;
};

}  // namespace pop3d::net
