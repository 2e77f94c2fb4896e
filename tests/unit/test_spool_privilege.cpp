// The mail-group helper (PrivilegeScope) and what its one failure mode
// means for its callers: a failed raise is reported, and an expunge that
// needed the group deletes nothing and says so.
#include "mailbox/mailbox_lock.hpp"
#include "mailbox/mbox_expunge.hpp"
#include "mailbox/mbox_maildrop.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace pop3d;
namespace fs = std::filesystem;

namespace {

// Counts raises and lowers; raise number `fail_at` (1-based, counted from
// arm()) fails. Until arm() every raise succeeds.
class FakePrivilege final : public mailbox::SpoolPrivilege {
public:
    bool raise() override {
        ++raises;
        if (armed && ++armed_raises == fail_at) return false;
        ++held;
        return true;
    }
    void lower() override {
        ++lowers;
        --held;
    }
    void arm(int n) {
        armed = true;
        fail_at = n;
    }
    int raises = 0, lowers = 0, held = 0, armed_raises = 0, fail_at = 0;
    bool armed = false;
};

TEST(PrivilegeScope, RaisesAndLowersOnce) {
    FakePrivilege p;
    {
        const mailbox::PrivilegeScope scope(&p);
        EXPECT_TRUE(scope.ok());
        EXPECT_EQ(p.held, 1);
    }
    EXPECT_EQ(p.raises, 1);
    EXPECT_EQ(p.lowers, 1);
    EXPECT_EQ(p.held, 0);
}

TEST(PrivilegeScope, AFailedRaiseIsReportedAndNotLowered) {
    FakePrivilege p;
    p.arm(1);
    {
        const mailbox::PrivilegeScope scope(&p);
        EXPECT_FALSE(scope.ok());
    }
    EXPECT_EQ(p.lowers, 0) << "what was never raised is not lowered";
}

TEST(PrivilegeScope, NoPrivilegeMeansNothingToSwitch) {
    const mailbox::PrivilegeScope scope(nullptr);
    EXPECT_TRUE(scope.ok());
}

const std::string kM1 = "From a@x Thu Nov 26 10:00:00 2026\nSubject: one\n\nbody one\n\n";
const std::string kM2 = "From b@x Thu Nov 26 10:00:01 2026\nSubject: two\n\nbody two\n\n";
const std::string kM3 = "From c@x Thu Nov 26 10:00:02 2026\nSubject: three\n\nbody three\n\n";

class ExpungeWithoutMailGroup : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pop3d-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = dir + "/alice";
        std::ofstream(path, std::ios::binary) << kM1 + kM2 + kM3;
    }
    void TearDown() override { fs::remove_all(dir); }
    std::string read_file() {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // Deletes the middle message (a rewrite, not a truncation) with raise
    // number `fail_at` of the expunge failing.
    mailbox::Result expunge_failing_raise(int fail_at) {
        mailbox::MboxOptions o;
        o.path = path;
        o.owner = ::geteuid();
        o.lock.timeout = std::chrono::milliseconds(0);
        o.lock.privilege = &privilege;
        mailbox::Result r;
        auto md = mailbox::MboxMaildrop::open(o, r);
        EXPECT_TRUE(md) << r.detail;
        if (!md) return r;
        privilege.arm(fail_at);
        return md->expunge({false, true, false});
    }
    void expect_nothing_deleted(const mailbox::Result& r) {
        EXPECT_EQ(r.status, mailbox::Status::temp_fail) << r.detail;
        EXPECT_NE(r.detail.find("mail group"), std::string::npos) << r.detail;
        EXPECT_NE(r.detail.find("no messages deleted"), std::string::npos) << r.detail;
        EXPECT_EQ(read_file(), kM1 + kM2 + kM3);
        EXPECT_FALSE(fs::exists(mailbox::expunge_temp_path(path)));
        EXPECT_FALSE(fs::exists(path + ".lock"));
        EXPECT_EQ(privilege.held, 0) << "every successful raise was lowered";
    }

    std::string dir, path;
    FakePrivilege privilege;
};

// The expunge's raises: 1 the dotlock, 2 creating the new file, 3 the
// rename, 4 removing the dotlock.
TEST_F(ExpungeWithoutMailGroup, CreatingTheNewFileDeletesNothing) {
    ASSERT_TRUE(fs::exists(path));
    expect_nothing_deleted(expunge_failing_raise(2));
}

TEST_F(ExpungeWithoutMailGroup, RenamingDeletesNothing) { expect_nothing_deleted(expunge_failing_raise(3)); }

TEST_F(ExpungeWithoutMailGroup, WithTheGroupItDeletes) {
    EXPECT_TRUE(expunge_failing_raise(0).ok());
    EXPECT_EQ(read_file(), kM1 + kM3);
    EXPECT_EQ(privilege.held, 0);
}

}  // namespace
