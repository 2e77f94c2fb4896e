// The mbox maildrop on real files: the safety checks on open, sending,
// UIDs, limits, and the checks before a message is sent.
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

TEST_F(MboxMaildropTest, TruncatedDuringTheSessionMeansNoBytesAreServed) {
    write_file(kM1 + kM2);
    auto md = open_ok();
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << kM1.substr(0, 10); }
    EXPECT_FALSE(md->check(1).ok());
    EXPECT_FALSE(md->load_uids().ok());
}
