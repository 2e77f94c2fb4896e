#include "net/proxy_header.hpp"

#include "net/address_key.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace pop3d::net {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::size_t kV1Max = 107;  // the spec's bound, CRLF included
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV2Fixed = 16;

ProxyParse malformed(std::string error) {
    ProxyParse p;
    p.state = ProxyParse::State::malformed;
    p.error = std::move(error);
    return p;
}

ProxyParse incomplete(std::size_t certain) {
    ProxyParse p;
    p.length = certain;
    return p;
}

// The form net::peer_address() gives (net::plain_address: a v4-mapped
// address as IPv4), so that limits and logs key alike. A header carries
// no IPv6 zone: inet_pton refuses one in v1, and v2 has no field for it.
std::string format_address(int family, const void* raw) {
    char text[INET6_ADDRSTRLEN];
    if (::inet_ntop(family, raw, text, sizeof text) == nullptr) return {};
    return plain_address(text);
}

std::string parse_v1_address(std::string_view field, int family) {
    if (field.empty() || field.size() >= INET6_ADDRSTRLEN || field.find('\0') != std::string_view::npos) return {};
    const std::string text(field);
    unsigned char raw[sizeof(in6_addr)];
    if (::inet_pton(family, text.c_str(), raw) != 1) return {};
    return format_address(family, raw);
}

bool parse_v1_port(std::string_view field, unsigned& port) {
    if (field.empty() || field.size() > 5 || (field.size() > 1 && field[0] == '0')) return false;
    unsigned v = 0;
    for (char c : field) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535) return false;
    port = v;
    return true;
}

// "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN...\r\n".
ProxyParse parse_v1(std::string_view bytes) {
    const std::size_t cr = bytes.find('\r');
    const std::size_t lf = bytes.find('\n');
    if (lf != std::string_view::npos && (cr == std::string_view::npos || cr > lf))
        return malformed("v1 header ends with a bare LF");
    if (cr == std::string_view::npos || cr + 1 >= bytes.size()) {
        if (bytes.size() >= kV1Max) return malformed("v1 header longer than 107 bytes");
        return incomplete(bytes.size());  // no CRLF yet: every byte so far is header
    }
    if (bytes[cr + 1] != '\n') return malformed("v1 header has a CR without LF");
    if (cr + 2 > kV1Max) return malformed("v1 header longer than 107 bytes");
    std::string_view line = bytes.substr(kV1Prefix.size(), cr - kV1Prefix.size());

    ProxyParse p;
    p.state = ProxyParse::State::complete;
    p.length = cr + 2;
    p.header.version = 1;
    if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) return p;  // the proxy's own connection

    std::string_view fields[5];
    std::size_t n = 0;
    while (n < 5) {
        const std::size_t sp = line.find(' ');
        fields[n++] = line.substr(0, sp);
        if (sp == std::string_view::npos) {
            line = {};
            break;
        }
        line.remove_prefix(sp + 1);
    }
    if (n != 5 || !line.empty()) return malformed("v1 header does not have 5 fields");
    int family;
    if (fields[0] == "TCP4") family = AF_INET;
    else if (fields[0] == "TCP6") family = AF_INET6;
    else return malformed("v1 header has an unknown protocol");
    const std::string source = parse_v1_address(fields[1], family);
    unsigned source_port = 0, dest_port = 0;
    if (source.empty() || parse_v1_address(fields[2], family).empty())
        return malformed("v1 header has a bad address");
    if (!parse_v1_port(fields[3], source_port) || !parse_v1_port(fields[4], dest_port))
        return malformed("v1 header has a bad port");
    p.header.has_client = true;
    p.header.client = source;
    p.header.client_port = source_port;
    return p;
}

ProxyParse parse_v2(std::string_view bytes) {
    if (bytes.size() < kV2Fixed) return incomplete(bytes.size());
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
    const unsigned version = byte(12) >> 4, command = byte(12) & 0xf;
    const unsigned family = byte(13) >> 4, transport = byte(13) & 0xf;
    const std::size_t length = (static_cast<std::size_t>(byte(14)) << 8) | byte(15);
    if (version != 2) return malformed("v2 header has version " + std::to_string(version));
    if (command > 1) return malformed("v2 header has an unknown command");
    if (kV2Fixed + length > kMaxProxyHeader)
        return malformed("v2 header longer than " + std::to_string(kMaxProxyHeader) + " bytes");
    if (bytes.size() < kV2Fixed + length) return incomplete(bytes.size());

    ProxyParse p;
    p.state = ProxyParse::State::complete;
    p.length = kV2Fixed + length;
    p.header.version = 2;
    if (command == 0) return p;  // LOCAL: the proxy's own connection (a health check)
    const char* body = bytes.data() + kV2Fixed;
    std::uint16_t port_be;
    if (family == 1 || family == 2) {
        if (transport != 1) return malformed("v2 header carries a non-stream transport");
        const std::size_t address = family == 1 ? 4 : 16;
        if (length < 2 * address + 4) return malformed("v2 header too short for its address family");
        unsigned char raw[16];
        std::memcpy(raw, body, address);
        std::memcpy(&port_be, body + 2 * address, 2);
        p.header.client = format_address(family == 1 ? AF_INET : AF_INET6, raw);
        if (p.header.client.empty()) return malformed("v2 header has a bad address");
        p.header.client_port = ntohs(port_be);
        p.header.has_client = true;
        return p;
    }
    if (family > 3) return malformed("v2 header has an unknown address family");
    return p;  // UNSPEC or UNIX: nothing an address limit could use
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view bytes) {
    const std::size_t v1 = std::min(bytes.size(), kV1Prefix.size());
    if (bytes.substr(0, v1) == kV1Prefix.substr(0, v1)) {
        if (bytes.size() < kV1Prefix.size()) return incomplete(bytes.size());
        return parse_v1(bytes);
    }
    const std::size_t v2 = std::min(bytes.size(), kV2Signature.size());
    if (bytes.substr(0, v2) == kV2Signature.substr(0, v2)) return parse_v2(bytes);
    return malformed("no PROXY header");
}

bool looks_like_proxy_header(std::string_view first_bytes) {
    return first_bytes.starts_with(kV1Prefix) || first_bytes.starts_with(kV2Signature.substr(0, 5));
}

}  // namespace pop3d::net
