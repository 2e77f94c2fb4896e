// The one address rule: the plain text logs show and the key the limits
// count under (IPv6 per /64, zones dropped, v4-mapped as IPv4), in the
// failure table's terms.
#include "net/address_key.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>

using namespace pop3d::net;

TEST(AddressKey, PlainAddressDropsTheZoneAndTheV4Mapping) {
    EXPECT_EQ(plain_address("fe80::2%lo"), "fe80::2");
    EXPECT_EQ(plain_address("fe80::2%eth0"), "fe80::2");
    EXPECT_EQ(plain_address("FE80:0:0::2%1"), "fe80::2");
    EXPECT_EQ(plain_address("::ffff:192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(plain_address("192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(plain_address("2001:DB8:0:0::1"), "2001:db8::1");
    EXPECT_EQ(plain_address(""), "");
    EXPECT_EQ(plain_address("unknown"), "unknown");
    EXPECT_EQ(plain_address("192.0.2.1%lo"), "192.0.2.1%lo");  // no zone on IPv4: not an address
}

TEST(AddressKey, Ipv6CountsPerSlash64AndIpv4PerAddress) {
    EXPECT_EQ(address_key_text("2001:db8:1:2::1"), "2001:db8:1:2::/64");
    EXPECT_EQ(address_key_text("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
    EXPECT_EQ(address_key_text("fe80::2%lo"), "fe80::/64");
    EXPECT_EQ(address_key_text("fe80::99"), "fe80::/64");
    EXPECT_EQ(address_key_text("192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(address_key_text("::ffff:192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(address_key_text("unknown"), "unknown");
    EXPECT_EQ(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:2::7"));
    EXPECT_NE(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:3::1"));
    EXPECT_EQ(address_key("192.0.2.1"), address_key("::ffff:192.0.2.1"));
    EXPECT_NE(address_key("192.0.2.1"), address_key("192.0.2.2"));
    EXPECT_FALSE(address_key(""));
    EXPECT_FALSE(address_key("999.1.1.1"));
}

TEST(AddressKey, ASocketAddressWithAScopeIsLoggedPlain) {
    // What getpeername gives for a link-local client; getnameinfo would add "%lo".
    sockaddr_in6 six{};
    six.sin6_family = AF_INET6;
    ASSERT_EQ(::inet_pton(AF_INET6, "fe80::2", &six.sin6_addr), 1);
    six.sin6_scope_id = ::if_nametoindex("lo");
    EXPECT_EQ(socket_address_text(reinterpret_cast<sockaddr*>(&six), sizeof six), "fe80::2");
    ASSERT_EQ(::inet_pton(AF_INET6, "::ffff:198.51.100.7", &six.sin6_addr), 1);
    six.sin6_scope_id = 0;
    EXPECT_EQ(socket_address_text(reinterpret_cast<sockaddr*>(&six), sizeof six), "198.51.100.7");
    sockaddr_in four{};
    four.sin_family = AF_INET;
    ASSERT_EQ(::inet_pton(AF_INET, "192.0.2.9", &four.sin_addr), 1);
    EXPECT_EQ(socket_address_text(reinterpret_cast<sockaddr*>(&four), sizeof four), "192.0.2.9");
    sockaddr un{};
    un.sa_family = AF_UNIX;
    EXPECT_EQ(socket_address_text(&un, sizeof un), "");
}
