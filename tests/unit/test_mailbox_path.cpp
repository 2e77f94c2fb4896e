#include "app/mailbox_path.hpp"

#include <gtest/gtest.h>

using namespace pop3d;

namespace {
auth::Account acct(std::string name, std::string home) {
    auth::Account a;
    a.name = std::move(name);
    a.home = std::move(home);
    return a;
}
}  // namespace

TEST(MailboxPath, ExpandsUserHomeAndPercent) {
    EXPECT_EQ(app::expand_mailbox_path("/var/mail/%u", acct("alice", "/home/alice")), "/var/mail/alice");
    EXPECT_EQ(app::expand_mailbox_path("%h/Mail/inbox", acct("alice", "/home/alice")), "/home/alice/Mail/inbox");
    EXPECT_EQ(app::expand_mailbox_path("/spool/%%/%u", acct("bob", "/h")), "/spool/%/bob");
}

TEST(MailboxPath, RefusesPathsThatEscape) {
    EXPECT_FALSE(app::expand_mailbox_path("%h/mbox", acct("alice", "")));
    EXPECT_FALSE(app::expand_mailbox_path("%h/mbox", acct("alice", "relative")));
    EXPECT_FALSE(app::expand_mailbox_path("%h/mbox", acct("alice", "/home/../etc")));
    EXPECT_FALSE(app::expand_mailbox_path("/var/mail/%u", acct("..", "/h")));
    EXPECT_FALSE(app::expand_mailbox_path("/var/mail/%u", acct(".", "/h")));
    EXPECT_FALSE(app::expand_mailbox_path("/var/mail/%u/", acct("a", "/h")));
    EXPECT_FALSE(app::expand_mailbox_path("/var/mail/%x", acct("a", "/h")));
}
