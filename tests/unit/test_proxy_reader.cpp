// Reading a PROXY header off a socket without passing its end.
#include "net/proxy_reader.hpp"
#include "proxy_helpers.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

using namespace pop3d::net;
using pop3d::testing::ipv4_body;
using pop3d::testing::v2;

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
