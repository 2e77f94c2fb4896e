// The PROXY protocol header (v1 text, v2 binary) and the guard that tells
// one from a POP3 command.
#include "net/proxy_header.hpp"
#include "proxy_helpers.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace pop3d::net;
using namespace pop3d::testing;
using State = ProxyParse::State;

TEST(ProxyHeaderV1, Tcp4NamesTheClientAndEndsAtCrlf) {
    const std::string h = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 110\r\n";
    const ProxyParse p = parse_proxy_header(h + "USER alice\r\n");
    ASSERT_EQ(p.state, State::complete) << p.error;
    EXPECT_EQ(p.length, h.size());
    EXPECT_TRUE(p.header.has_client);
    EXPECT_EQ(p.header.client, "192.0.2.7");
    EXPECT_EQ(p.header.client_port, 56324u);
    EXPECT_EQ(p.header.version, 1);
}

TEST(ProxyHeaderV1, Tcp6IsWrittenTheWayPeerAddressWritesIt) {
    const ProxyParse p = parse_proxy_header("PROXY TCP6 2001:DB8:0:0::7 2001:db8::1 1 65535\r\n");
    ASSERT_EQ(p.state, State::complete) << p.error;
    EXPECT_EQ(p.header.client, "2001:db8::7");
    const ProxyParse mapped = parse_proxy_header("PROXY TCP6 ::ffff:192.0.2.9 ::1 1000 110\r\n");
    ASSERT_EQ(mapped.state, State::complete);
    EXPECT_EQ(mapped.header.client, "192.0.2.9");
}

TEST(ProxyHeaderV1, UnknownKeepsTheConnectionsOwnAddress) {
    for (const std::string h : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n"}) {
        const ProxyParse p = parse_proxy_header(h);
        ASSERT_EQ(p.state, State::complete) << h;
        EXPECT_FALSE(p.header.has_client);
        EXPECT_EQ(p.length, h.size());
    }
}

TEST(ProxyHeaderV1, PrefixesAreIncompleteAndWhollyHeader) {
    const std::string h = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 110\r\n";
    for (std::size_t n = 0; n < h.size(); ++n) {
        const ProxyParse p = parse_proxy_header(h.substr(0, n));
        ASSERT_EQ(p.state, State::incomplete) << n;
        EXPECT_EQ(p.length, n);
    }
}

TEST(ProxyHeaderV1, MalformedHeadersAreRefused) {
    const char* bad[] = {
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",          // 4 fields
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324 110 9\r\n",    // 6 fields
        "PROXY TCP4  192.0.2.7 198.51.100.1 56324 110\r\n",     // double space
        "PROXY TCP5 192.0.2.7 198.51.100.1 56324 110\r\n",      // protocol
        "PROXY TCP4 192.0.2.300 198.51.100.1 56324 110\r\n",    // address
        "PROXY TCP4 2001:db8::1 198.51.100.1 56324 110\r\n",    // v6 in TCP4
        "PROXY TCP6 192.0.2.7 2001:db8::1 56324 110\r\n",       // v4 in TCP6
        "PROXY TCP4 192.0.2.7 198.51.100.1 65536 110\r\n",      // port range
        "PROXY TCP4 192.0.2.7 198.51.100.1 0110 110\r\n",       // leading zero
        "PROXY TCP4 192.0.2.7 198.51.100.1 -1 110\r\n",         // sign
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324 110\n",        // bare LF
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324 110\rX\n",     // CR without LF
        "PROXY tcp4 192.0.2.7 198.51.100.1 56324 110\r\n",      // case
        "USER alice\r\n",                                       // no header at all
        "proxy TCP4 192.0.2.7 198.51.100.1 56324 110\r\n",
    };
    const std::string nul("PROXY TCP4 192.0.2.7\0x 198.51.100.1 1 2\r\n", 41);
    EXPECT_EQ(parse_proxy_header(nul).state, State::malformed);
    for (const char* h : bad) EXPECT_EQ(parse_proxy_header(h).state, State::malformed) << h;
}

TEST(ProxyHeaderV1, ALineOver107BytesIsRefusedEvenBeforeItsEnd) {
    const std::string longer = "PROXY UNKNOWN " + std::string(120, 'x');
    EXPECT_EQ(parse_proxy_header(longer).state, State::malformed);
    EXPECT_EQ(parse_proxy_header(longer + "\r\n").state, State::malformed);
    const std::string longest = "PROXY UNKNOWN " + std::string(107 - 16, 'x') + "\r\n";
    ASSERT_EQ(longest.size(), 107u);
    EXPECT_EQ(parse_proxy_header(longest).state, State::complete);
}

TEST(ProxyHeaderV2, ProxyOverIpv4NamesTheClient) {
    const std::string h = v2(1, 0x11, ipv4_body(std::string("\xc0\x00\x02\x07", 4), std::string("\x7f\0\0\x01", 4), 40000, 110));
    const ProxyParse p = parse_proxy_header(h + "CAPA\r\n");
    ASSERT_EQ(p.state, State::complete) << p.error;
    EXPECT_EQ(p.length, h.size());
    EXPECT_EQ(p.header.client, "192.0.2.7");
    EXPECT_EQ(p.header.client_port, 40000u);
    EXPECT_EQ(p.header.version, 2);
}

TEST(ProxyHeaderV2, ProxyOverIpv6AndTlvsAfterTheAddresses) {
    std::string src(16, '\0'), dst(16, '\0');
    src[0] = '\x20', src[1] = '\x01', src[2] = '\x0d', src[3] = '\xb8', src[15] = '\x09';
    dst[15] = 1;
    std::string body = src + dst + std::string("\x01\x02\x00\x6e", 4);
    body += std::string("\x05\x00\x03" "abc", 6);  // a TLV (unique id), skipped
    const std::string h = v2(1, 0x21, body);
    const ProxyParse p = parse_proxy_header(h);
    ASSERT_EQ(p.state, State::complete) << p.error;
    EXPECT_EQ(p.header.client, "2001:db8::9");
    EXPECT_EQ(p.header.client_port, 258u);
    EXPECT_EQ(p.length, h.size());
}

TEST(ProxyHeaderV2, LocalUnspecAndUnixKeepTheConnectionsOwnAddress) {
    const std::string bodies[] = {v2(0, 0x00, ""), v2(0, 0x11, ipv4_body("abcd", "efgh", 1, 2)), v2(1, 0x00, ""),
                                  v2(1, 0x31, std::string(216, 'u'))};
    for (const std::string& h : bodies) {
        const ProxyParse p = parse_proxy_header(h);
        ASSERT_EQ(p.state, State::complete) << p.error;
        EXPECT_FALSE(p.header.has_client);
        EXPECT_EQ(p.length, h.size());
    }
}

TEST(ProxyHeaderV2, PrefixesAreIncompleteAndWhollyHeader) {
    const std::string h = v2(1, 0x11, ipv4_body("abcd", "efgh", 1, 2));
    for (std::size_t n = 0; n < h.size(); ++n) {
        const ProxyParse p = parse_proxy_header(h.substr(0, n));
        ASSERT_EQ(p.state, State::incomplete) << n;
        EXPECT_EQ(p.length, n);
    }
}

TEST(ProxyHeaderV2, MalformedHeadersAreRefused) {
    std::string wrong_version = v2(1, 0x11, ipv4_body("abcd", "efgh", 1, 2));
    wrong_version[12] = 0x11;
    const std::string bad[] = {
        wrong_version,
        v2(2, 0x11, ipv4_body("abcd", "efgh", 1, 2)),     // command
        v2(1, 0x11, "abcdefgh"),                          // too short for IPv4
        v2(1, 0x21, ipv4_body("abcd", "efgh", 1, 2)),     // too short for IPv6
        v2(1, 0x12, ipv4_body("abcd", "efgh", 1, 2)),     // UDP
        v2(1, 0x41, ipv4_body("abcd", "efgh", 1, 2)),     // family
        v2(1, 0x11, std::string(kMaxProxyHeader, 'x')),   // too long
        std::string("\r\n\r\n\0\r\nQUIX\n", 12) + std::string(8, '\0'),
    };
    for (const std::string& h : bad) EXPECT_EQ(parse_proxy_header(h).state, State::malformed);
}

TEST(ProxyHeaderGuard, RecognisesEitherVersionButNotCommands) {
    EXPECT_TRUE(looks_like_proxy_header("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"));
    EXPECT_TRUE(looks_like_proxy_header(kSig + "!"));
    EXPECT_TRUE(looks_like_proxy_header(std::string("\r\n\r\n\0", 5)));
    EXPECT_FALSE(looks_like_proxy_header("PROXY\r\n"));
    EXPECT_FALSE(looks_like_proxy_header("CAPA\r\n"));
    EXPECT_FALSE(looks_like_proxy_header("\r\n"));
    EXPECT_FALSE(looks_like_proxy_header(""));
}
