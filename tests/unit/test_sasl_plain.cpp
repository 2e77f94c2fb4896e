// SASL PLAIN (auth/sasl_plain): strict base64 and the PLAIN message
// (authzid, user, password) with its limits.
#include "auth/sasl_plain.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace pop3d;

TEST(SaslPlain, StrictBase64) {
    EXPECT_EQ(auth::decode_base64_strict("dGVzdAB0ZXN0AHRlc3Q="), std::string("test\0test\0test", 14));
    EXPECT_EQ(auth::decode_base64_strict("="), "");
    EXPECT_EQ(auth::decode_base64_strict("YQ=="), "a");
    EXPECT_EQ(auth::decode_base64_strict("YWI="), "ab");
    for (const char* bad : {"", "AAA=BBB", "=AAA", "dGVz!A==", "dGVz dA==", "YQ=", "YR==", "YWJ=", "Y===", "A", "====",
                            "YQ==YQ==", "\r\n"})
        EXPECT_FALSE(auth::decode_base64_strict(bad)) << bad;
    for (const std::string& s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                                 std::string("\0\xff\x10", 3)})
        EXPECT_EQ(auth::decode_base64_strict(s.empty() ? "=" : auth::encode_base64(s)), s);
}

TEST(SaslPlain, Messages) {
    auto c = auth::parse_plain(std::string("\0alice\0secret", 13));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->authzid, "");
    EXPECT_EQ(c->authcid, "alice");
    EXPECT_EQ(c->password, "secret");
    c = auth::parse_plain(std::string("bob\0alice\0a b c", 15));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->authzid, "bob");
    EXPECT_EQ(c->password, "a b c");
    for (const std::string& bad : {std::string("alice\0secret", 12), std::string("\0\0secret", 8),
                                  std::string("\0alice\0", 7), std::string("a\0b\0c\0d", 7), std::string(),
                                  std::string(1, '\0') + std::string(256, 'a') + std::string(1, '\0') + "p"})
        EXPECT_FALSE(auth::parse_plain(bad)) << bad.size();
    EXPECT_TRUE(auth::parse_plain(std::string(255, 'z') + '\0' + std::string(255, 'a') + '\0' + std::string(255, 'p')));
}
