// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and
// 2) that a load balancer sends before the client's first byte, carrying
// the client's address. Pure parsing: no sockets here (proxy_reader does
// the reading).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pop3d::net {

// The longest header accepted: a v1 line is at most 107 bytes; a v2 header
// is 16 bytes plus its length field, and HAProxy's own TLVs (SSL details,
// unique id, ALPN) stay well under this.
inline constexpr std::size_t kMaxProxyHeader = 1024;

struct ProxyHeader {
    // false: the proxy speaks for itself (v1 UNKNOWN, v2 LOCAL, or a family
    // other than TCP over IPv4/IPv6): keep the connection's own address.
    bool has_client = false;
    std::string client;  // numeric address, as net::peer_address() prints it
    unsigned client_port = 0;
    int version = 0;     // 1 or 2
};

struct ProxyParse {
    enum class State { incomplete, complete, malformed };
    State state = State::incomplete;
    // incomplete: how many of the bytes given certainly belong to the
    // header (they may be consumed without reading past it); complete:
    // the header's length.
    std::size_t length = 0;
    ProxyHeader header;
    std::string error;  // malformed: why, for the log
};

// Parses the start of a connection's byte stream, which may go on past the
// header.
ProxyParse parse_proxy_header(std::string_view bytes);

// Whether a client's first bytes are, or begin, a PROXY header: what a
// connection that is not from a trusted proxy must not send.
bool looks_like_proxy_header(std::string_view first_bytes);

}  // namespace pop3d::net
