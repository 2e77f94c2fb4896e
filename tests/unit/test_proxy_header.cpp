// The PROXY protocol header (v1 text, v2 binary), the trusted-network
// lists, reading a header off a socket without passing its end, and the
// connection table's hand-over from a balancer's address to its client's.
#include "net/address_match.hpp"
#include "net/connection_table.hpp"
#include "net/proxy_header.hpp"
#include "net/proxy_reader.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

using namespace pop3d::net;
using State = ProxyParse::State;

namespace {

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: command (0 LOCAL, 1 PROXY), family/transport byte, body.
std::string v2(unsigned command, unsigned char family, const std::string& body) {
    std::string h = kSig;
    h += static_cast<char>(0x20 | command);
    h += static_cast<char>(family);
    h += static_cast<char>(body.size() >> 8);
    h += static_cast<char>(body.size() & 0xff);
    return h + body;
}

std::string ipv4_body(std::string src, std::string dst, unsigned sport, unsigned dport) {
    std::string b = src + dst;
    b += static_cast<char>(sport >> 8);
    b += static_cast<char>(sport & 0xff);
    b += static_cast<char>(dport >> 8);
    b += static_cast<char>(dport & 0xff);
    return b;
}

}  // namespace

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

TEST(NetworkList, AddressesAndPrefixesOfBothFamilies) {
    std::string error;
    const auto list = NetworkList::parse("127.0.0.1, 10.0.0.0/8 2001:db8::/32\t::1 192.0.2.128/25", &error);
    ASSERT_TRUE(list) << error;
    for (const char* in : {"127.0.0.1", "10.1.2.3", "10.255.255.255", "2001:db8::5", "2001:DB8:ffff::1", "::1",
                           "192.0.2.200", "::ffff:10.9.9.9"})
        EXPECT_TRUE(list->contains(in)) << in;
    for (const char* out : {"127.0.0.2", "11.0.0.1", "2001:db9::1", "::2", "192.0.2.127", "", "bogus", "10.0.0.0/8"})
        EXPECT_FALSE(list->contains(out)) << out;
}

TEST(NetworkList, EdgesAndErrors) {
    std::string error;
    auto all4 = NetworkList::parse("0.0.0.0/0", &error);
    ASSERT_TRUE(all4);
    EXPECT_TRUE(all4->contains("203.0.113.1"));
    EXPECT_FALSE(all4->contains("2001:db8::1"));  // every IPv4 address, no IPv6 one
    auto empty = NetworkList::parse("  , ", &error);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
    EXPECT_FALSE(empty->contains("127.0.0.1"));
    EXPECT_FALSE(NetworkList::parse(std::string("10.0.0.1\0junk", 13), &error));
    for (const char* bad : {"localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/0008", "1.2.3"}) {
        error.clear();
        EXPECT_FALSE(NetworkList::parse(bad, &error)) << bad;
        EXPECT_FALSE(error.empty());
    }
}

namespace {

struct SocketPair {
    int proxy = -1, server = -1;
    SocketPair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        proxy = fds[0];
        server = fds[1];
    }
    ~SocketPair() {
        if (proxy >= 0) ::close(proxy);
        ::close(server);
    }
    void send(const std::string& s) const { ASSERT_EQ(::write(proxy, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
    std::string rest() const {
        char buf[256];
        const ssize_t n = ::recv(server, buf, sizeof buf, MSG_DONTWAIT);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
};

}  // namespace

TEST(ProxyReader, TakesTheHeaderInPiecesAndLeavesWhatFollows) {
    SocketPair s;
    ProxyReader reader;
    EXPECT_EQ(reader.step(s.server), ProxyReader::Step::more);  // nothing yet
    s.send("PROX");
    EXPECT_EQ(reader.step(s.server), ProxyReader::Step::more);
    s.send("Y TCP4 192.0.2.7 198.51.100.1 5");
    EXPECT_EQ(reader.step(s.server), ProxyReader::Step::more);
    s.send("6324 110\r");
    EXPECT_EQ(reader.step(s.server), ProxyReader::Step::more);
    s.send("\nCAPA\r\nUSER x\r\n");
    ASSERT_EQ(reader.step(s.server), ProxyReader::Step::done) << reader.error();
    EXPECT_EQ(reader.header().client, "192.0.2.7");
    EXPECT_EQ(s.rest(), "CAPA\r\nUSER x\r\n");
}

TEST(ProxyReader, V2FollowedByATlsHelloLeavesTheHello) {
    SocketPair s;
    const std::string hello("\x16\x03\x01\x02\x00\x01", 6);
    s.send(v2(1, 0x11, ipv4_body(std::string("\xcb\x00\x71\x05", 4), "efgh", 1, 995)) + hello);
    ProxyReader reader;
    ASSERT_EQ(reader.step(s.server), ProxyReader::Step::done) << reader.error();
    EXPECT_EQ(reader.header().client, "203.0.113.5");
    EXPECT_EQ(s.rest(), hello);
}

TEST(ProxyReader, FailsOnGarbageOnCloseAndOnTimeout) {
    {
        SocketPair s;
        s.send("USER alice\r\n");
        ProxyReader reader;
        EXPECT_EQ(reader.step(s.server), ProxyReader::Step::failed);
        EXPECT_NE(reader.error().find("no PROXY header"), std::string::npos);
    }
    {
        SocketPair s;
        s.send("PROXY TCP4 1.2");
        ::close(s.proxy);
        s.proxy = -1;
        ProxyReader reader;
        EXPECT_EQ(reader.step(s.server), ProxyReader::Step::more);
        EXPECT_EQ(reader.step(s.server), ProxyReader::Step::failed);
        EXPECT_NE(reader.error().find("closed within"), std::string::npos);
        EXPECT_FALSE(reader.closed_before_header());
    }
    {
        SocketPair s;  // a TCP health check: connect, close
        ::close(s.proxy);
        s.proxy = -1;
        ProxyHeader header;
        std::string error;
        bool closed_early = false;
        EXPECT_FALSE(read_proxy_header(s.server, std::chrono::seconds(5), header, &error, &closed_early));
        EXPECT_TRUE(closed_early);
        EXPECT_NE(error.find("closed before"), std::string::npos);
    }
    {
        SocketPair s;
        s.send("PROXY TCP4 1.2");
        ProxyHeader header;
        std::string error;
        EXPECT_FALSE(read_proxy_header(s.server, std::chrono::milliseconds(200), header, &error));
        EXPECT_NE(error.find("no complete PROXY header"), std::string::npos);
    }
    {
        SocketPair s;
        s.send("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\nCAPA\r\n");
        ProxyHeader header;
        std::string error;
        ASSERT_TRUE(read_proxy_header(s.server, std::chrono::seconds(5), header, &error)) << error;
        EXPECT_EQ(header.client, "192.0.2.7");
        EXPECT_EQ(s.rest(), "CAPA\r\n");
    }
}

TEST(ConnectionTable, TransferMovesAConnectionToTheClientsAddress) {
    ConnectionTable t;
    const std::size_t unlimited = static_cast<std::size_t>(-1);
    ASSERT_EQ(t.admit("10.0.0.5", 10, unlimited), ConnectionTable::Admit::ok);
    ASSERT_EQ(t.admit("10.0.0.5", 10, unlimited), ConnectionTable::Admit::ok);
    ASSERT_EQ(t.admit("10.0.0.5", 10, unlimited), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.transfer("10.0.0.5", "192.0.2.7", 1), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.transfer("10.0.0.5", "192.0.2.8", 1), ConnectionTable::Admit::ok);
    EXPECT_EQ(t.count(), 3u);
    // A second connection of 192.0.2.7 through the balancer is over its limit and let go.
    EXPECT_EQ(t.transfer("10.0.0.5", "192.0.2.7", 1), ConnectionTable::Admit::too_many_from_address);
    EXPECT_EQ(t.count(), 2u);
    t.release("192.0.2.7");
    t.release("192.0.2.8");
    EXPECT_EQ(t.count(), 0u);
    EXPECT_EQ(t.admit("192.0.2.7", 10, 1), ConnectionTable::Admit::ok);  // nothing left behind
    EXPECT_EQ(t.admit("10.0.0.5", 10, 1), ConnectionTable::Admit::ok);
}
