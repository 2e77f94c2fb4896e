// libFuzzer target: the PROXY protocol header parser (root code that reads
// a balancer's first bytes) and the trusted-network list. What the reader
// relies on: a complete header of length L is complete, alike, from its
// first L bytes alone, and every shorter prefix is incomplete with all its
// bytes certainly header, so consuming them never passes the header's end.
#include "net/address_match.hpp"
#include "net/proxy_header.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace pop3d::net;
using State = ProxyParse::State;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const ProxyParse p = parse_proxy_header(bytes);
    if (p.state == State::malformed) FUZZ_REQUIRE(!p.error.empty());
    if (p.state == State::incomplete) FUZZ_REQUIRE(p.length == size && size < kMaxProxyHeader);
    if (p.state == State::complete) {
        FUZZ_REQUIRE(p.length > 0 && p.length <= size && p.length <= kMaxProxyHeader);
        FUZZ_REQUIRE(p.header.version == 1 || p.header.version == 2);
        const ProxyParse alone = parse_proxy_header(bytes.substr(0, p.length));
        FUZZ_REQUIRE(alone.state == State::complete && alone.length == p.length &&
                     alone.header.client == p.header.client && alone.header.has_client == p.header.has_client);
        for (std::size_t n = 0; n < p.length; ++n) {
            const ProxyParse prefix = parse_proxy_header(bytes.substr(0, n));
            FUZZ_REQUIRE(prefix.state == State::incomplete && prefix.length == n);
        }
        if (p.header.has_client) {
            // The client is a numeric address that a network list of it matches.
            std::string error;
            const auto self = NetworkList::parse(p.header.client, &error);
            FUZZ_REQUIRE(self && self->contains(p.header.client));
            FUZZ_REQUIRE(p.header.client_port <= 65535);
        }
        FUZZ_REQUIRE(looks_like_proxy_header(bytes));
    }
    // Any text as a network list: parsing never crashes, and each accepted
    // entry's address is in the list.
    std::string error;
    if (const auto list = NetworkList::parse(bytes, &error)) {
        std::size_t at = 0;
        while (at < bytes.size()) {
            std::size_t end = bytes.find_first_of(" \t,", at);
            if (end == std::string_view::npos) end = bytes.size();
            const std::string_view item = bytes.substr(at, end - at);
            at = end + 1;
            if (!item.empty()) FUZZ_REQUIRE(list->contains(item.substr(0, item.find('/'))));
        }
    } else {
        FUZZ_REQUIRE(!error.empty());
    }
    return 0;
}
