// The one-session-per-maildrop lock file: taken once, and only when it is
// the private file pop3d makes (checked like the runtime files), never a
// file someone else planted where it goes.
#include "mailbox/session_lock.hpp"
#include "temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace pop3d::mailbox;

namespace {

class SessionLockTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(tmp.ok());
        dir = tmp.path();
        lock_path = dir + "/" + SessionLock::file_name(kMailbox);
    }
    std::unique_ptr<SessionLock> acquire() { return SessionLock::acquire(dir, kMailbox, result); }
    void plant(mode_t mode) {
        std::ofstream(lock_path) << "planted\n";
        ASSERT_EQ(::chmod(lock_path.c_str(), mode), 0);
    }
    // Refused as a temporary failure whose detail names the file and says why.
    void expect_refused(const std::string& why) {
        EXPECT_FALSE(acquire());
        EXPECT_EQ(result.status, Status::temp_fail);
        EXPECT_NE(result.detail.find("session lock " + lock_path), std::string::npos) << result.detail;
        EXPECT_NE(result.detail.find(why), std::string::npos) << result.detail;
    }
    pop3d::testing::TempDir tmp;
    static constexpr const char* kMailbox = "/var/mail/alice";
    std::string dir, lock_path;
    Result result;
};

}  // namespace

TEST_F(SessionLockTest, OneHolderAtATimeAndThePrivateFileIsMade) {
    auto first = acquire();
    ASSERT_TRUE(first) << result.detail;
    struct stat st {};
    ASSERT_EQ(::stat(lock_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_FALSE(acquire());
    EXPECT_EQ(result.status, Status::in_use);
    first.reset();
    EXPECT_TRUE(acquire()) << result.detail;  // the file we made passes the check the next time
}

TEST_F(SessionLockTest, AFileOpenToOthersIsNotUsed) {
    plant(0666);  // anyone could take its lock (denying the maildrop) or rewrite its mtime
    expect_refused("is open to group or others (mode 0666, not 0600)");
    plant(0640);  // a read lock is enough to deny the maildrop
    expect_refused("mode 0640");
}

TEST_F(SessionLockTest, ASymlinkIsNotFollowed) {
    const std::string target = dir + "/target";
    std::ofstream(target) << "";
    ::chmod(target.c_str(), 0600);
    ASSERT_EQ(::symlink(target.c_str(), lock_path.c_str()), 0);
    expect_refused(": ");  // O_NOFOLLOW: ELOOP
    EXPECT_EQ(std::filesystem::file_size(target), 0u);
}

TEST_F(SessionLockTest, AHardLinkIsNotUsed) {
    const std::string other = dir + "/other";
    std::ofstream(other) << "";
    ::chmod(other.c_str(), 0600);
    ASSERT_EQ(::link(other.c_str(), lock_path.c_str()), 0);
    expect_refused("has 2 links");
}

TEST_F(SessionLockTest, AFifoOrADirectoryIsNotUsedAndNothingHangs) {
    ASSERT_EQ(::mkfifo(lock_path.c_str(), 0600), 0);
    expect_refused("is not a regular file");
    ::unlink(lock_path.c_str());
    ASSERT_EQ(::mkdir(lock_path.c_str(), 0700), 0);
    EXPECT_FALSE(acquire());  // open fails (EISDIR)
    EXPECT_EQ(result.status, Status::temp_fail);
}

TEST_F(SessionLockTest, AFileOfAnotherOwnerIsNotUsed) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
    plant(0600);
    ASSERT_EQ(::chown(lock_path.c_str(), 5001, 5001), 0);
    expect_refused("is owned by uid 5001, not uid 0");
}
