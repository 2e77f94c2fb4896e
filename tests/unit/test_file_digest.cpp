// digest_file: the digest of a file's first bytes is the same whether one
// thread reads them or two (the helper above helper_bytes).
#include "mailbox/file_digest.hpp"
#include "common/unique_fd.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

using namespace pop3d;
using namespace pop3d::mailbox;

TEST(FileDigest, TwoThreadsGiveWhatOneGives) {
    pop3d::testing::TempDir tmp;
    ASSERT_TRUE(tmp.ok());
    std::mt19937_64 rng(5);
    std::string data(3 * 1024 * 1024 + 777, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const std::string path = tmp.file("f");
    std::ofstream(path, std::ios::binary) << data;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    const ContentDigest::Key key = *ContentDigest::random_key();
    for (std::uint64_t end : {std::uint64_t{0}, std::uint64_t{15}, std::uint64_t{1024 * 1024},
                              std::uint64_t{data.size() - 1}, std::uint64_t{data.size()}}) {
        ContentDigest one(key);
        one.update(data.data(), static_cast<std::size_t>(end));
        ContentDigest alone(key), helped(key);
        ASSERT_TRUE(digest_file(fd.get(), end, alone));
        ASSERT_TRUE(digest_file(fd.get(), end, helped, 0));  // a helper for any size
        EXPECT_EQ(alone.finish(), one.finish()) << end;
        EXPECT_EQ(helped.finish(), one.finish()) << end;
    }
    ContentDigest past(key);
    EXPECT_FALSE(digest_file(fd.get(), data.size() + 1, past, 0));  // the file is shorter
}
