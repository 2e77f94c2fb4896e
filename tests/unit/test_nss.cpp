#include "common/nss.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <vector>

using pop3d::nss::Lookup;
using pop3d::nss::with_retries;

TEST(NssRetries, ErangeGrowsTheBufferUntilTheEntryFits) {
    std::vector<std::size_t> sizes;
    const Lookup r = with_retries(
        [&](std::span<char> buf, bool& found) {
            sizes.push_back(buf.size());
            found = buf.size() >= 4096;
            return found ? 0 : ERANGE;
        },
        1024);
    EXPECT_EQ(r, Lookup::found);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1024, 2048, 4096}));
}

TEST(NssRetries, MinusOneWithErangeInErrnoGrowsTheBufferToo) {
    std::vector<std::size_t> sizes;
    const Lookup r = with_retries(
        [&](std::span<char> buf, bool& found) {
            sizes.push_back(buf.size());
            found = buf.size() >= 2048;
            if (found) return 0;
            errno = ERANGE;
            return -1;
        },
        1024);
    EXPECT_EQ(r, Lookup::found);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1024, 2048}));
}

TEST(NssRetries, APassingFailureIsTriedAgain) {
    int calls = 0;
    const Lookup r = with_retries([&](std::span<char>, bool& found) {
        found = true;
        return ++calls < 3 ? EIO : 0;
    });
    EXPECT_EQ(r, Lookup::found);
    EXPECT_EQ(calls, 3);
}

TEST(NssRetries, AFailingBackendIsAnErrorNotNoSuchEntry) {
    int calls = 0;
    EXPECT_EQ(with_retries([&](std::span<char>, bool&) { return ++calls, EIO; }), Lookup::error);
    EXPECT_EQ(calls, 3);
    // An entry that never fits: the buffer stops growing at 4 MiB, then it is an error.
    std::size_t largest = 0;
    EXPECT_EQ(with_retries([&](std::span<char> buf, bool&) { return largest = buf.size(), ERANGE; }), Lookup::error);
    EXPECT_EQ(largest, std::size_t{1} << 22);
}

TEST(NssRetries, NoEntryIsNotFound) {
    EXPECT_EQ(with_retries([](std::span<char>, bool& found) { return found = false, 0; }), Lookup::not_found);
}

TEST(Nss, OwnUserAndGroupResolve) {
    pop3d::nss::User by_uid;
    ASSERT_EQ(pop3d::nss::user_by_uid(::geteuid(), by_uid), Lookup::found);
    EXPECT_EQ(by_uid.uid, ::geteuid());
    pop3d::nss::User by_name;
    ASSERT_EQ(pop3d::nss::user_by_name(by_uid.name, by_name), Lookup::found);
    EXPECT_EQ(by_name.uid, by_uid.uid);
    EXPECT_EQ(by_name.home, by_uid.home);
    std::string group;
    ASSERT_EQ(pop3d::nss::group_by_gid(::getegid(), group), Lookup::found);
    gid_t gid = 0;
    ASSERT_EQ(pop3d::nss::group_by_name(group, gid), Lookup::found);
    EXPECT_EQ(gid, ::getegid());
    EXPECT_EQ(pop3d::nss::user_by_name("no-such-user-pop3d", by_name), Lookup::not_found);
    EXPECT_EQ(pop3d::nss::group_by_name("no-such-group-pop3d", gid), Lookup::not_found);
}
