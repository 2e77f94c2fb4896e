// The trusted-network lists (proxy_trusted): addresses and prefixes of both
// families, their edges and errors.
#include "net/address_match.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace pop3d::net;

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
