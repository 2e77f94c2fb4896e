// The expunge at QUIT (mailbox/mbox_expunge): exactly the marked messages go,
// new mail, owner and mode stay, a crash's temp file is replaced, and a
// mailbox another program changed is left alone.
#include "mailbox/mbox_expunge.hpp"
#include "mailbox/test_hooks.hpp"
#include "mbox_maildrop_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

using namespace pop3d;
using namespace pop3d::testing;
namespace fs = std::filesystem;

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

// A writer that takes no lock, between the copy and the rename: the mail
// it appended must not be lost, nor a rewrite of the same length taken.
namespace {
std::string g_hook_path, g_hook_bytes;
bool g_hook_append = true;
std::string g_hook_step = "synced";
void write_at_synced(const char* step) {
    if (step != g_hook_step) return;
    if (g_hook_append) std::ofstream(g_hook_path, std::ios::binary | std::ios::app) << g_hook_bytes;
    else std::fstream(g_hook_path, std::ios::binary | std::ios::in | std::ios::out) << g_hook_bytes;
}
}  // namespace

TEST_F(MboxMaildropTest, AWriteDuringTheExpungeCostsNothing) {
    for (const bool append : {true, false}) {
        write_file(kM1 + kM2 + kM3);
        auto md = open_ok();
        g_hook_path = path;
        g_hook_append = append;
        g_hook_bytes = append ? kM4 : "From x@y";  // in place: the first From_ line's address
        mailbox::set_test_step_hook(write_at_synced);
        const mailbox::Result r = md->expunge({false, true, false});
        mailbox::set_test_step_hook(nullptr);
        EXPECT_EQ(r.status, mailbox::Status::changed) << r.detail;
        std::string want = kM1 + kM2 + kM3;
        if (append) want += kM4;
        else want.replace(0, g_hook_bytes.size(), g_hook_bytes);
        EXPECT_EQ(read_file(), want);
        EXPECT_FALSE(fs::exists(mailbox::expunge_temp_path(path)));
    }
}

// Only the last message goes (a truncation): mail appended by a writer
// that takes no lock while the content is proved is not cut off.
TEST_F(MboxMaildropTest, MailAppendedDuringTheProofIsNotTruncatedAway) {
    write_file(kM1 + kM2 + kM3);
    auto md = open_ok();
    g_hook_path = path;
    g_hook_append = true;
    g_hook_bytes = kM4;
    g_hook_step = "proved";
    mailbox::set_test_step_hook(write_at_synced);
    const mailbox::Result r = md->expunge({false, false, true});
    mailbox::set_test_step_hook(nullptr);
    g_hook_step = "synced";
    EXPECT_EQ(r.status, mailbox::Status::changed) << r.detail;
    EXPECT_EQ(read_file(), kM1 + kM2 + kM3 + kM4);
}

TEST_F(MboxMaildropTest, ReplacedMailboxIsNotTouched) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    write_file(kM1 + kM2, dir + "/new");
    fs::rename(dir + "/new", path);
    EXPECT_EQ(md->expunge({true, false}).status, mailbox::Status::changed);
    EXPECT_EQ(read_file(), kM1 + kM2);
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
