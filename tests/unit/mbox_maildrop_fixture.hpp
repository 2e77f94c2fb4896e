// The fixture of the mbox maildrop tests on real files (open checks, locks,
// sending, expunge): a temp dir, four small messages, open/read helpers.
#pragma once

#include "mailbox/mbox_maildrop.hpp"
#include "mbox_helpers.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace pop3d::testing {

inline const std::string kM1 = "From a@x Thu Nov 26 10:00:00 2026\nSubject: one\n\nbody one\n\n";
inline const std::string kM2 = "From b@x Thu Nov 26 10:00:01 2026\nSubject: two\n\n.dot\nbody two\n\n";
inline const std::string kM3 = "From c@x Thu Nov 26 10:00:02 2026\nSubject: three\n\nbody three\n\n";
inline const std::string kM4 = "From d@x Thu Nov 26 10:00:03 2026\nSubject: four\n\nbody four\n\n";

class MboxMaildropTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(tmp.ok());
        dir = tmp.path();
        path = dir + "/alice";
    }

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

    TempDir tmp;
    std::string dir;
    std::string path;
};

}  // namespace pop3d::testing
