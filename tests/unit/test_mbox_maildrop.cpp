// The mbox maildrop on real files: the safety checks on open, locking with
// other programs, sending, UIDs and expunge.
#include "mailbox/mbox_expunge.hpp"
#include "mailbox/mbox_maildrop.hpp"
#include "mbox_helpers.hpp"

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

namespace {

const std::string kM1 = "From a@x Thu Nov 26 10:00:00 2026\nSubject: one\n\nbody one\n\n";
const std::string kM2 = "From b@x Thu Nov 26 10:00:01 2026\nSubject: two\n\n.dot\nbody two\n\n";
const std::string kM3 = "From c@x Thu Nov 26 10:00:02 2026\nSubject: three\n\nbody three\n\n";
const std::string kM4 = "From d@x Thu Nov 26 10:00:03 2026\nSubject: four\n\nbody four\n\n";

class MboxMaildropTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pop3d-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = dir + "/alice";
    }
    void TearDown() override { fs::remove_all(dir); }

    void write_file(const std::string& content, const std::string& p = "") {
        std::ofstream(p.empty() ? path : p, std::ios::binary) << content;
    }
    std::string read_file() {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    mailbox::MboxOptions options(uid_t owner = ::geteuid()) {
        mailbox::MboxOptions o;
        o.path = path;
        o.owner = owner;
        o.lock.timeout = std::chrono::milliseconds(0);
        return o;
    }
    std::unique_ptr<mailbox::MboxMaildrop> open(mailbox::Result& r, uid_t owner = ::geteuid()) {
        return mailbox::MboxMaildrop::open(options(owner), r);
    }
    std::unique_ptr<mailbox::MboxMaildrop> open_ok() {
        mailbox::Result r;
        auto md = open(r);
        EXPECT_TRUE(r.ok()) << r.detail;
        return md;
    }
    std::string retr(mailbox::Maildrop& md, std::size_t i, std::optional<std::uint64_t> lines = std::nullopt) {
        StringSink s;
        EXPECT_TRUE(md.check(i).ok());
        EXPECT_TRUE(md.send(i, lines, s).ok());
        return s.data;
    }
    std::vector<std::string> uids(mailbox::Maildrop& md) {
        EXPECT_TRUE(md.load_uids().ok());
        std::vector<std::string> u;
        for (std::size_t i = 0; i < md.count(); ++i) u.push_back(md.uid(i));
        return u;
    }

    std::string dir;
    std::string path;
};

}  // namespace

TEST_F(MboxMaildropTest, MissingFileIsAnEmptyMaildrop) {
    auto md = open_ok();
    ASSERT_TRUE(md);
    EXPECT_EQ(md->count(), 0u);
    EXPECT_TRUE(md->load_uids().ok());
    EXPECT_TRUE(md->expunge({}).ok());
    EXPECT_FALSE(fs::exists(path));
}

TEST_F(MboxMaildropTest, EmptyFile) {
    write_file("");
    auto md = open_ok();
    EXPECT_EQ(md->count(), 0u);
}

TEST_F(MboxMaildropTest, SizesEqualTheBytesSent) {
    write_file(kM1 + kM2 + "From e@x Thu Nov 26 10:00:00 2026\r\nS: crlf\r\n\r\nx\r\n\r\n" + kM3.substr(0, kM3.size() - 2));
    auto md = open_ok();
    ASSERT_EQ(md->count(), 4u);
    for (std::size_t i = 0; i < md->count(); ++i) {
        StringSink s;
        ASSERT_TRUE(md->send(i, std::nullopt, s).ok());
        std::string unstuffed;  // only message 2 has a dot line
        for (std::size_t k = 0; k < s.data.size(); ++k)
            if (!(s.data[k] == '.' && (k == 0 || s.data[k - 1] == '\n'))) unstuffed.push_back(s.data[k]);
        EXPECT_EQ(md->size(i), unstuffed.size()) << i;
    }
    EXPECT_EQ(retr(*md, 1), "Subject: two\r\n\r\n..dot\r\nbody two\r\n");
    EXPECT_EQ(retr(*md, 3), "Subject: three\r\n\r\nbody three\r\n");
    EXPECT_EQ(retr(*md, 0, 0), "Subject: one\r\n\r\n");
}

TEST_F(MboxMaildropTest, SymlinkIsRefused) {
    write_file(kM1, dir + "/target");
    fs::create_symlink(dir + "/target", path);
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
    EXPECT_NE(r.detail.find("symbolic link"), std::string::npos);
}

TEST_F(MboxMaildropTest, ForeignOwnedFileIsRefused) {
    write_file(kM1);
    mailbox::Result r;
    EXPECT_FALSE(open(r, ::geteuid() + 1));
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
    EXPECT_NE(r.detail.find("owned by"), std::string::npos);
}

TEST_F(MboxMaildropTest, HardLinkedFileIsRefused) {
    write_file(kM1);
    fs::create_hard_link(path, dir + "/other");
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
}

TEST_F(MboxMaildropTest, WorldWritableFileIsRefused) {
    write_file(kM1);
    ::chmod(path.c_str(), 0666);
    mailbox::Result r;
    EXPECT_EQ(open(r), nullptr);
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
    EXPECT_NE(r.detail.find("writable by everyone"), std::string::npos) << r.detail;
    ::chmod(path.c_str(), 0660);  // group mail may write (Debian's USER:mail 0660)
    EXPECT_NE(open_ok(), nullptr);
}

TEST_F(MboxMaildropTest, FifoIsRefusedWithoutHanging) {
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
}

TEST_F(MboxMaildropTest, DirectoryIsRefused) {
    fs::create_directory(path);
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
}

TEST_F(MboxMaildropTest, NotAnMboxIsRefused) {
    write_file("Subject: hello\n\nnot an mbox\n");
    mailbox::Result r;
    EXPECT_FALSE(open(r));
    EXPECT_EQ(r.status, mailbox::Status::perm_fail);
}

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

TEST_F(MboxMaildropTest, ExpungeRemovesOnlyTheMarkedMessages) {
    write_file(kM1 + kM2 + kM3 + kM4);
    auto md = open_ok();
    const auto before = uids(*md);
    ASSERT_TRUE(md->expunge({false, true, false, true}).ok());
    EXPECT_EQ(read_file(), kM1 + kM3);
    EXPECT_FALSE(fs::exists(path + ".lock"));
    auto again = open_ok();
    const auto after = uids(*again);
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[0], before[0]);
    EXPECT_EQ(after[1], before[2]);
}

TEST_F(MboxMaildropTest, ExpungeFirstLastAndAll) {
    write_file(kM1 + kM2 + kM3);
    ASSERT_TRUE(open_ok()->expunge({true, false, false}).ok());
    EXPECT_EQ(read_file(), kM2 + kM3);
    ASSERT_TRUE(open_ok()->expunge({false, true}).ok());
    EXPECT_EQ(read_file(), kM2);
    ASSERT_TRUE(open_ok()->expunge({true}).ok());
    EXPECT_EQ(read_file(), "");
    EXPECT_TRUE(fs::exists(path)) << "the empty mailbox file stays";
}

TEST_F(MboxMaildropTest, MailDeliveredDuringTheSessionIsKept) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    std::ofstream(path, std::ios::binary | std::ios::app) << kM3;
    ASSERT_TRUE(md->expunge({true, false}).ok());
    EXPECT_EQ(read_file(), kM2 + kM3);
}

TEST_F(MboxMaildropTest, ExpungeKeepsOwnerAndMode) {
    for (mode_t mode : {0660, 0600, 0640}) {
        write_file(kM1 + kM2 + kM3);
        ::chmod(path.c_str(), mode);
        struct stat before {};
        ::stat(path.c_str(), &before);
        ASSERT_TRUE(open_ok()->expunge({true, false, false}).ok());  // a rewrite: a new file
        struct stat after {};
        ::stat(path.c_str(), &after);
        EXPECT_NE(after.st_ino, before.st_ino);
        EXPECT_EQ(after.st_mode, before.st_mode);
        EXPECT_EQ(after.st_uid, before.st_uid);
        EXPECT_EQ(after.st_gid, before.st_gid);
        EXPECT_EQ(read_file(), kM2 + kM3);
        EXPECT_FALSE(fs::exists(mailbox::expunge_temp_path(path)));
    }
}

TEST_F(MboxMaildropTest, DeletingOnlyTheLastMessagesTruncatesInPlace) {
    write_file(kM1 + kM2 + kM3);
    struct stat before {};
    ::stat(path.c_str(), &before);
    ASSERT_TRUE(open_ok()->expunge({false, true, true}).ok());
    struct stat after {};
    ::stat(path.c_str(), &after);
    EXPECT_EQ(after.st_ino, before.st_ino);
    EXPECT_EQ(read_file(), kM1);
}

TEST_F(MboxMaildropTest, DeletingTheLastMessagesWithNewMailRewrites) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    std::ofstream(path, std::ios::binary | std::ios::app) << kM3;
    ASSERT_TRUE(md->expunge({false, true}).ok());
    EXPECT_EQ(read_file(), kM1 + kM3);
}

TEST_F(MboxMaildropTest, IncompleteFromLineAtTheEndIsServedNeverAndKeptAlways) {
    const std::string partial = "From mailer-daemon Thu Nov";
    write_file(kM1 + kM2 + partial);
    auto md = open_ok();
    ASSERT_EQ(md->count(), 2u);
    EXPECT_EQ(retr(*md, 1), "Subject: two\r\n\r\n..dot\r\nbody two\r\n");
    ASSERT_TRUE(md->expunge({false, true}).ok());
    EXPECT_EQ(read_file(), kM1 + partial);
    md.reset();
    md = open_ok();
    ASSERT_TRUE(md->expunge({true}).ok());
    EXPECT_EQ(read_file(), partial);
}

TEST_F(MboxMaildropTest, MaxMessagesServesTheFirstAndKeepsTheRest) {
    write_file(kM1 + kM2 + kM3 + kM4);
    auto o = options();
    o.max_messages = 2;
    mailbox::Result r;
    auto md = mailbox::MboxMaildrop::open(o, r);
    ASSERT_TRUE(r.ok()) << r.detail;
    ASSERT_EQ(md->count(), 2u);
    EXPECT_EQ(retr(*md, 1), "Subject: two\r\n\r\n..dot\r\nbody two\r\n");
    ASSERT_TRUE(md->expunge({true, false}).ok());
    EXPECT_EQ(read_file(), kM2 + kM3 + kM4);
    md.reset();
    md = mailbox::MboxMaildrop::open(o, r);  // the next session sees the next ones
    ASSERT_EQ(md->count(), 2u);
    EXPECT_EQ(retr(*md, 1), "Subject: three\r\n\r\nbody three\r\n");
    ASSERT_TRUE(md->expunge({true, true}).ok());
    EXPECT_EQ(read_file(), kM4);
}

TEST_F(MboxMaildropTest, TempFileLeftByACrashIsReplaced) {
    write_file(kM1 + kM2);
    write_file("half-written garbage", mailbox::expunge_temp_path(path));
    write_file("left by an earlier build", path + ".pop3d new");
    ASSERT_TRUE(open_ok()->expunge({true, false}).ok());
    EXPECT_EQ(read_file(), kM2);
    EXPECT_FALSE(fs::exists(mailbox::expunge_temp_path(path)));
    EXPECT_FALSE(fs::exists(path + ".pop3d new"));
}

TEST_F(MboxMaildropTest, TempFileNameHasNoSpaceAndCannotBeAUsersMailbox) {
    const std::string tmp = mailbox::expunge_temp_path("/var/mail/alice");
    EXPECT_EQ(tmp, "/var/mail/alice:pop3d-new");  // next to the mailbox, named for pop3d
    EXPECT_EQ(tmp.find_first_of(" \t"), std::string::npos);
    // ':' separates the fields of /etc/passwd: no user name can hold it.
    EXPECT_NE(tmp.substr(tmp.rfind('/') + 1).find(':'), std::string::npos);
}

TEST_F(MboxMaildropTest, RewrittenMailboxIsNotTouched) {
    write_file(kM1 + kM2 + kM3);
    auto md = open_ok();
    // Another program (a MUA) expunged message 1 in place meanwhile.
    const std::string rewritten = kM2 + kM3 + kM4;
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << rewritten; }
    const mailbox::Result r = md->expunge({false, true, false});
    EXPECT_EQ(r.status, mailbox::Status::changed);
    EXPECT_EQ(read_file(), rewritten);
    EXPECT_FALSE(md->check(1).ok());
    EXPECT_EQ(md->writable().status, mailbox::Status::changed);  // read-only from now on
}

// Messages of one length: a rewrite in place can leave a From_ line at
// every indexed offset and the size unchanged. Only the content tells.
namespace {
std::string same_length_message(char tag) {
    return std::string("From ") + tag + "@x Thu Nov 26 10:00:00 2026\nSubject: " + tag + "\n\nbody " + tag + "\n\n";
}
}  // namespace

TEST_F(MboxMaildropTest, InPlaceRewriteWithAFromLineAtEveryOffsetDeletesNothing) {
    const std::string a = same_length_message('a'), b = same_length_message('b'), c = same_length_message('c'),
                      d = same_length_message('d');
    write_file(a + b + c);
    auto md = open_ok();
    // A mail reader removed message a in place (same inode), then a delivery
    // landed at the freed end: b, c, d now stand where a, b, c stood.
    { std::ofstream(path, std::ios::binary | std::ios::in | std::ios::out) << b + c + d; }
    const mailbox::Result r = md->expunge({true, false, false});  // the client deleted a
    EXPECT_EQ(r.status, mailbox::Status::changed);
    EXPECT_NE(r.detail.find("rewritten in place"), std::string::npos) << r.detail;
    EXPECT_EQ(read_file(), b + c + d);  // b survives
    EXPECT_EQ(md->writable().status, mailbox::Status::changed);
}

TEST_F(MboxMaildropTest, TruncateAndRedeliveryAtTheSameOffsetDeletesNothing) {
    const std::string a = same_length_message('a'), b = same_length_message('b'), c = same_length_message('c');
    write_file(a + b);
    auto md = open_ok();
    // Another session (no session lock) deleted b by truncating; c arrived where b was.
    write_file(a + c);
    EXPECT_EQ(md->expunge({false, true}).status, mailbox::Status::changed);
    EXPECT_EQ(read_file(), a + c);
}

TEST_F(MboxMaildropTest, OneChangedByteAnywhereDeletesNothing) {
    const std::string mbox = kM1 + kM2 + kM3;
    for (std::size_t at : {std::size_t{0} + 10, kM1.size() + 20, mbox.size() - 3}) {
        write_file(mbox);
        auto md = open_ok();
        std::string changed = mbox;
        changed[at] = changed[at] == 'x' ? 'y' : 'x';
        { std::ofstream(path, std::ios::binary | std::ios::in | std::ios::out) << changed; }
        EXPECT_EQ(md->expunge({false, true, false}).status, mailbox::Status::changed) << at;
        EXPECT_EQ(read_file(), changed) << at;
    }
}

// A delivery by a writer that takes no lock, caught half-written at login,
// then finished: deleting the message before it must keep it whole.
TEST_F(MboxMaildropTest, AHalfWrittenDeliveryAfterALengthIsKeptWhole) {
    const std::string keep = "From x Thu Nov 26 10:00:00 2026\nSubject: keep\n\nkeep me\n\n";
    const std::string counted = "From a Thu Nov 26 10:00:01 2026\nContent-Length: 12\n\nhi\n\n";
    const std::string fresh = "From new Thu Nov 26 10:00:02 2026\nSubject: fresh mail\n\nimportant\n\n";
    write_file(keep + counted + fresh.substr(0, 8));
    auto md = open_ok();
    ASSERT_EQ(md->count(), 2u);
    { std::ofstream(path, std::ios::binary | std::ios::app) << fresh.substr(8); }
    ASSERT_TRUE(md->expunge({false, true}).ok());
    EXPECT_EQ(read_file(), keep + fresh);
}

TEST_F(MboxMaildropTest, GrowthAtTheEndIsAllowedAndKept) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    { std::ofstream(path, std::ios::binary | std::ios::app) << kM3; }
    EXPECT_TRUE(md->expunge({true, false}).ok());
    EXPECT_EQ(read_file(), kM2 + kM3);
}

TEST_F(MboxMaildropTest, RewriteThatMovesAFromLineIsDetectedBeforeSending) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    // Same size or longer, "From " still at 0, but message 1's From_ line is
    // now longer: its end is not where the index has it.
    const std::string other = "From someone.else@example.org Thu Nov 26 23:59:59 2026\nSubject: x\n\ny\n\n";
    std::string rewritten = other + kM2 + std::string(100, 'z');
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << rewritten; }
    EXPECT_EQ(md->check(0).status, mailbox::Status::changed);
    EXPECT_EQ(md->check(1).status, mailbox::Status::changed);
    EXPECT_FALSE(md->writable().ok());
}

TEST_F(MboxMaildropTest, CheckThenSendReadsTheMessageOnceAndTopStopsEarly) {
    const std::string big = "From a@x Thu Nov 26 10:00:00 2026\nSubject: big\n\n" + std::string(600 * 1024, 'b') + "\n";
    write_file(big + kM2);
    auto md = open_ok();
    EXPECT_EQ(retr(*md, 0).size(), md->size(0));  // larger than one prefetch chunk
    EXPECT_EQ(retr(*md, 0, 0), "Subject: big\r\n\r\n");
    EXPECT_EQ(retr(*md, 1), "Subject: two\r\n\r\n..dot\r\nbody two\r\n");
    StringSink s;  // send without check works too
    EXPECT_TRUE(md->send(1, std::nullopt, s).ok());
    EXPECT_EQ(s.data, "Subject: two\r\n\r\n..dot\r\nbody two\r\n");
}

// A burst of RETRs is served from one read window; after the session waits
// for its client (release_buffers) the next RETR reads the file again, so
// a rewrite in between is caught.
TEST_F(MboxMaildropTest, PipelinedRetrsShareAReadAndAWaitRereads) {
    std::string mbox;
    std::vector<std::string> bodies;
    for (int i = 0; i < 200; ++i) {
        bodies.push_back("Subject: m" + std::to_string(i) + "\r\n\r\n.." + std::to_string(i) + "\r\nline\r\n");
        mbox += "From a@x Thu Nov 26 10:00:00 2026\nSubject: m" + std::to_string(i) + "\n\n." + std::to_string(i) +
                "\nline\n\n";
    }
    write_file(mbox);
    auto md = open_ok();
    ASSERT_EQ(md->count(), 200u);
    for (std::size_t i = 0; i < 200; ++i) EXPECT_EQ(retr(*md, i), bodies[i]) << i;
    for (std::size_t i = 200; i-- > 0;) EXPECT_EQ(retr(*md, i), bodies[i]) << i;  // backwards too
    md->release_buffers();
    std::string shifted = "From b@x Thu Nov 26 10:00:00 2026\n" + mbox;  // every From_ line moves
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << shifted; }
    EXPECT_EQ(md->check(5).status, mailbox::Status::changed);
}

TEST_F(MboxMaildropTest, ReplacedMailboxIsNotTouched) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    write_file(kM1 + kM2, dir + "/new");
    fs::rename(dir + "/new", path);
    EXPECT_EQ(md->expunge({true, false}).status, mailbox::Status::changed);
    EXPECT_EQ(read_file(), kM1 + kM2);
}

TEST_F(MboxMaildropTest, LockedAtQuitDeletesNothing) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    write_file("", path + ".lock");
    EXPECT_EQ(md->expunge({true, false}).status, mailbox::Status::in_use);
    EXPECT_EQ(read_file(), kM1 + kM2);
    EXPECT_TRUE(fs::exists(path + ".lock"));
}

TEST_F(MboxMaildropTest, TruncatedDuringTheSessionMeansNoBytesAreServed) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << kM1.substr(0, 10); }
    EXPECT_FALSE(md->check(1).ok());
    EXPECT_FALSE(md->load_uids().ok());
}

TEST_F(MboxMaildropTest, ReadOnlyMailboxCanBeReadButNotExpunged) {
    if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
    write_file(kM1 + kM2);
    ::chmod(path.c_str(), 0440);
    auto md = open_ok();
    ASSERT_TRUE(md);
    EXPECT_TRUE(md->read_only());
    EXPECT_EQ(retr(*md, 0), "Subject: one\r\n\r\nbody one\r\n");
    EXPECT_EQ(md->expunge({true, false}).status, mailbox::Status::perm_fail);
}
