#include "mailbox/sha256.hpp"

#include "digest_helpers.hpp"

#include <gtest/gtest.h>

#include <string>

using pop3d::mailbox::Sha256;

using pop3d::testing::hex;

namespace {
std::string sha(const std::string& s) { return pop3d::testing::sha256_hex(s); }
}  // namespace

TEST(Sha256, FipsVectors) {
    EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    const std::string s(1000, 'q');
    for (std::size_t step : {1, 7, 63, 64, 65, 999}) {
        Sha256 h;
        for (std::size_t i = 0; i < s.size(); i += step) h.update(s.data() + i, std::min(step, s.size() - i));
        EXPECT_EQ(hex(h.finish()), sha(s)) << step;
    }
}

// Where the CPU has SHA instructions they are used: they must agree with
// the portable code on every length and every split of the input.
TEST(Sha256, PortableCodeAndShaInstructionsAgree) {
    std::string s;
    std::uint32_t x = 12345;
    for (int i = 0; i < 5000; ++i) s.push_back(static_cast<char>((x = x * 1103515245 + 12345) >> 16));
    for (std::size_t len : {0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4999, 5000}) {
        Sha256 portable;
        portable.force_portable();
        portable.update(s.data(), len);
        Sha256 split;
        split.update(s.data(), len / 3);
        split.update(s.data() + len / 3, len - len / 3);
        EXPECT_EQ(hex(portable.finish()), hex(split.finish())) << len;
    }
    Sha256 portable;
    portable.force_portable();
    portable.update("abc", 3);
    EXPECT_EQ(hex(portable.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
