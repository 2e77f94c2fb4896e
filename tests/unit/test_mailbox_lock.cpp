// Locking with other programs (mailbox/mailbox_lock): dotlocks held, stale
// and broken, fcntl locks of other programs, locks released while the
// session idles, and a lock held at QUIT.
#include "mbox_maildrop_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace pop3d;
using namespace pop3d::testing;
namespace fs = std::filesystem;

TEST_F(MboxMaildropTest, HeldDotlockMeansInUseAndIsLeftAlone) {
    write_file(kM1);
    write_file(std::to_string(::getpid()) + "\n", path + ".lock");  // a live process
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::in_use);
    EXPECT_TRUE(fs::exists(path + ".lock"));
}

TEST_F(MboxMaildropTest, StaleDotlockIsBroken) {
    write_file(kM1);
    write_file("", path + ".lock");
    const timespec old[2] = {{1000, 0}, {1000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (path + ".lock").c_str(), old, 0), 0);
    auto md = open_ok();
    ASSERT_TRUE(md);
    EXPECT_EQ(md->count(), 1u);
    EXPECT_FALSE(fs::exists(path + ".lock"));
}

TEST_F(MboxMaildropTest, FcntlLockHeldByAnotherProgramMeansInUse) {
    write_file(kM1);
    const int fd = ::open(path.c_str(), O_RDWR);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_END;  // procmail locks from EOF onwards
    ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0);
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::in_use);
    EXPECT_FALSE(fs::exists(path + ".lock")) << "the dotlock is released while backing off";
    ::close(fd);
    EXPECT_TRUE(open(r)) << r.detail;
}

TEST_F(MboxMaildropTest, LocksAreReleasedWhileTheSessionIdles) {
    write_file(kM1);
    auto md = open_ok();
    EXPECT_FALSE(fs::exists(path + ".lock"));
    const int fd = ::open(path.c_str(), O_RDWR);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    EXPECT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0) << "an MDA can lock the mailbox during the session";
    ::close(fd);
}

TEST_F(MboxMaildropTest, LockedAtQuitDeletesNothing) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    write_file("", path + ".lock");
    EXPECT_EQ(md->expunge({true, false}).status, mailbox::Status::in_use);
    EXPECT_EQ(read_file(), kM1 + kM2);
    EXPECT_TRUE(fs::exists(path + ".lock"));
}
