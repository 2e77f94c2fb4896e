#include "net/listen_address.hpp"

#include <gtest/gtest.h>

using namespace pop3d::net;

TEST(ListenAddress, Forms) {
    std::string err;
    auto a = parse_listen_address("127.0.0.1:1110", &err);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, AF_INET);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 1110);
    a = parse_listen_address("[::1]:995", &err);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, AF_INET6);
    EXPECT_EQ(a->text(), "[::1]:995");
    a = parse_listen_address("[2001:db8::1]", &err);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 110);
    a = parse_listen_address("*:110", &err);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, AF_UNSPEC);
    a = parse_listen_address(":1110", &err);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, AF_UNSPEC);
    EXPECT_EQ(a->port, 1110);
    a = parse_listen_address("0.0.0.0", &err);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 110);
}

TEST(ListenAddress, Errors) {
    for (const char* bad : {"::1", "[::1", "[::1]x", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "host.example:110",
                            "999.1.1.1", "[1.2.3.4]:110", "1.2.3.4:"}) {
        std::string err;
        EXPECT_FALSE(parse_listen_address(bad, &err)) << bad;
        EXPECT_FALSE(err.empty()) << bad;
    }
}

TEST(ListenAddress, Lists) {
    std::string err;
    auto l = parse_listen_list("127.0.0.1:1 , [::1]:2\t*:3", &err);
    ASSERT_TRUE(l);
    ASSERT_EQ(l->size(), 3u);
    EXPECT_EQ((*l)[2].text(), "*:3");
    EXPECT_FALSE(parse_listen_list("  ", &err));
    EXPECT_FALSE(parse_listen_list("127.0.0.1:1 bogus", &err));
}
