// The POP3 engine over an in-memory transport: every command in every state,
// the bad inputs, pipelining, timeouts and the login rules.
#include "fakes.hpp"
#include "session/session.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

using namespace pop3d;
using namespace pop3d::testing;
using session::SessionEnd;

namespace {

const std::vector<std::string> kMessages = {
    "Subject: one\r\n\r\nfirst body\r\n",
    "Subject: two\r\n\r\n.dot\r\n..two dots\r\nline 2\r\nline 3\r\n",
    "Subject: three\r\n\r\nthird\r\n",
};

struct Transcript {
    std::string output;
    std::vector<std::string> lines;
    SessionEnd end;
};

class SessionTest : public ::testing::Test {
protected:
    SessionTest() : opener(kMessages) { auth.passwords = {{"alice", "secret"}, {"carol", "a b c"}}; }

    Transcript run(const std::vector<std::string>& pieces, session::ReadStatus at_end = session::ReadStatus::eof) {
        ScriptTransport t(pieces, at_end);
        session::Session s(t, auth, opener, clock, settings, auth::ClientInfo{"192.0.2.7"});
        Transcript r;
        r.end = s.run();
        r.output = t.output;
        std::string line;
        std::istringstream in(t.output);
        while (std::getline(in, line)) r.lines.push_back(line);
        writes = t.writes;
        timeouts = t.timeouts;
        return r;
    }
    Transcript run_text(const std::string& text) { return run({text}); }

    static std::string login() { return "USER alice\r\nPASS secret\r\n"; }

    FakeAuthenticator auth;
    FakeOpener opener;
    FakeClock clock;
    session::SessionSettings settings;
    int writes = 0;
    std::vector<std::chrono::milliseconds> timeouts;
};

// Lines after the greeting.
std::vector<std::string> replies(const Transcript& r) { return {r.lines.begin() + 1, r.lines.end()}; }

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

TEST_F(SessionTest, GreetingIsOnePositiveLineWithoutTimestamp) {
    const Transcript r = run({});
    ASSERT_GE(r.lines.size(), 1u);
    EXPECT_EQ(r.lines[0], "+OK POP3 server ready\r");
    EXPECT_EQ(r.lines[0].find('<'), std::string::npos);
    EXPECT_EQ(r.end, SessionEnd::eof);
}

TEST_F(SessionTest, EveryResponseLineEndsInCrlf) {
    const Transcript r = run_text("CAPA\r\n" + login() + "LIST\r\nUIDL\r\nRETR 2\r\nTOP 1 0\r\nSTAT\r\nQUIT\r\n");
    for (std::size_t i = 0; i < r.output.size(); ++i) {
        if (r.output[i] == '\n') {
            ASSERT_TRUE(i > 0 && r.output[i - 1] == '\r') << "bare LF at " << i;
        }
        if (r.output[i] == '\r') {
            ASSERT_TRUE(i + 1 < r.output.size() && r.output[i + 1] == '\n');
        }
    }
}

TEST_F(SessionTest, LoginThenStatListRetrQuit) {
    const Transcript r = run_text(login() + "STAT\r\nLIST\r\nLIST 2\r\nRETR 1\r\nQUIT\r\n");
    const auto l = replies(r);
    ASSERT_GE(l.size(), 13u);
    EXPECT_EQ(l[0], "+OK send PASS\r");
    EXPECT_EQ(l[1], "+OK maildrop has 3 messages (" + std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) + " octets)\r");
    EXPECT_TRUE(std::regex_match(l[2], std::regex(R"(\+OK 3 \d+\r)")));
    EXPECT_TRUE(starts(l[3], "+OK 3 messages"));
    EXPECT_EQ(l[4], "1 " + std::to_string(kMessages[0].size()) + "\r");
    EXPECT_EQ(l[7], ".\r");
    EXPECT_EQ(l[8], "+OK 2 " + std::to_string(kMessages[1].size()) + "\r");
    EXPECT_EQ(l[9], "+OK " + std::to_string(kMessages[0].size()) + " octets\r");
    EXPECT_EQ(r.end, SessionEnd::quit);
    EXPECT_EQ(opener.opened_for, "alice");
    EXPECT_EQ(opener.stats.expunge_calls, 1);
}

TEST_F(SessionTest, KeywordsAreCaseInsensitive) {
    const Transcript r = run_text("user alice\r\npAsS secret\r\nstat\r\nStAt\r\nuidl 1\r\n");
    const auto l = replies(r);
    EXPECT_TRUE(starts(l[2], "+OK 3 "));
    EXPECT_EQ(l[2], l[3]);
    EXPECT_EQ(l[4], "+OK 1 uid-1\r");
}

TEST_F(SessionTest, TransactionCommandsBeforeLoginAreRefused) {
    for (const char* cmd : {"STAT", "LIST", "RETR 1", "DELE 1", "RSET", "NOOP", "UIDL", "TOP 1 0"}) {
        const Transcript r = run_text(std::string(cmd) + "\r\nQUIT\r\n");
        const auto l = replies(r);
        ASSERT_EQ(l.size(), 2u) << cmd;
        EXPECT_EQ(l[0], "-ERR command not valid in this state\r") << cmd;
        EXPECT_TRUE(starts(l[1], "+OK")) << cmd;
    }
}

TEST_F(SessionTest, AuthorizationCommandsAfterLoginAreRefused) {
    for (const char* cmd : {"USER x", "PASS y", "APOP x y", "AUTH PLAIN", "STLS", "UTF8"}) {
        const Transcript r = run_text(login() + cmd + "\r\nNOOP\r\n");
        const auto l = replies(r);
        ASSERT_EQ(l.size(), 4u) << cmd;
        EXPECT_TRUE(starts(l[2], "-ERR")) << cmd;
        EXPECT_EQ(l[3], "+OK\r") << cmd;
    }
}

TEST_F(SessionTest, MalformedCommandsGetErrAndTheSessionGoesOn) {
    settings.max_command_errors = 0;
    const Transcript r = run_text(login() + "XYZZY\r\nLIST abc\r\nRETR\r\nDELE 1 2\r\nTOP 1\r\nTOP 1 -1\r\nTOP 1 x\r\n"
                                     "STAT x\r\nLIST  1\r\n\r\nNOOP\r\n");
    const auto l = replies(r);
    ASSERT_EQ(l.size(), 13u);
    for (std::size_t i = 2; i < 12; ++i) {
        EXPECT_TRUE(starts(l[i], "-ERR")) << i << ": " << l[i];
    }
    EXPECT_EQ(l[12], "+OK\r");
}

TEST_F(SessionTest, MessageNumbersOutOfRangeOrDeleted) {
    const Transcript r = run_text(login() + "LIST 0\r\nLIST 4\r\nRETR 99999999999999999999\r\nDELE 1\r\nLIST 1\r\nRETR 1\r\n"
                                     "TOP 1 0\r\nUIDL 1\r\nDELE 1\r\nLIST\r\nUIDL\r\nSTAT\r\n");
    const auto l = replies(r);
    EXPECT_EQ(l[2], "-ERR no such message\r");
    EXPECT_EQ(l[3], "-ERR no such message\r");
    EXPECT_TRUE(starts(l[4], "-ERR"));
    EXPECT_EQ(l[5], "+OK message 1 deleted\r");
    for (int i = 6; i <= 10; ++i) {
        EXPECT_EQ(l[i], "-ERR message is deleted\r") << i;
    }
    // LIST and UIDL leave message 1 out; numbers are not reused.
    EXPECT_TRUE(starts(l[11], "+OK 2 messages"));
    EXPECT_TRUE(starts(l[12], "2 "));
    EXPECT_TRUE(starts(l[13], "3 "));
    EXPECT_EQ(l[14], ".\r");
    EXPECT_TRUE(starts(l[15], "+OK"));
    EXPECT_EQ(l[16], "2 uid-2\r");
    EXPECT_EQ(l[17], "3 uid-3\r");
    EXPECT_EQ(l[18], ".\r");
    EXPECT_EQ(l[19], "+OK 2 " + std::to_string(kMessages[1].size() + kMessages[2].size()) + "\r");
}

TEST_F(SessionTest, RsetRestoresDeletedMessages) {
    const Transcript r = run_text(login() + "STAT\r\nDELE 1\r\nDELE 2\r\nRSET\r\nSTAT\r\nLIST 1\r\nQUIT\r\n");
    const auto l = replies(r);
    EXPECT_EQ(l[2], l[6]);  // STAT as at the start
    EXPECT_TRUE(starts(l[5], "+OK maildrop has 3 messages"));
    EXPECT_TRUE(starts(l[7], "+OK 1 "));
    ASSERT_EQ(opener.opens, 1);
    EXPECT_EQ(opener.stats.expunged, std::vector<bool>({false, false, false}));
}

TEST_F(SessionTest, QuitExpungesTheMarkedMessages) {
    const Transcript r = run_text(login() + "DELE 2\r\nQUIT\r\n");
    EXPECT_EQ(replies(r).back(), "+OK pop3d signing off (1 message deleted)\r");
    EXPECT_EQ(opener.stats.expunged, std::vector<bool>({false, true, false}));
    EXPECT_EQ(replies(run_text(login() + "DELE 1\r\nDELE 3\r\nQUIT\r\n")).back(),
              "+OK pop3d signing off (2 messages deleted)\r");
}

TEST_F(SessionTest, OneMessageIsSingularInEveryReply) {
    FakeOpener one({"Subject: x\r\n\r\nbody\r\n"});
    ScriptTransport t({login() + "LIST\r\nRETR 1\r\nDELE 1\r\nRSET\r\nDELE 1\r\nQUIT\r\n"});
    session::Session s(t, auth, one, clock, settings, {});
    s.run();
    const std::vector<std::string> l = reply_lines(t.output);
    ASSERT_EQ(l.size(), 14u) << t.output;
    EXPECT_EQ(l[1], "+OK maildrop has 1 message (20 octets)\r");
    EXPECT_EQ(l[2], "+OK 1 message (20 octets)\r");
    EXPECT_EQ(l[5], "+OK 20 octets\r");
    EXPECT_EQ(l[11], "+OK maildrop has 1 message (20 octets)\r");
    EXPECT_EQ(l[13], "+OK pop3d signing off (1 message deleted)\r");
}

TEST_F(SessionTest, DroppedConnectionDeletesNothing) {
    const Transcript r = run_text(login() + "DELE 1\r\nDELE 2\r\n");
    EXPECT_EQ(r.end, SessionEnd::eof);
    EXPECT_EQ(opener.stats.expunge_calls, 0);
}

TEST_F(SessionTest, FailedExpungeIsReported) {
    opener.tweak = [](MemoryMaildrop& md) { md.expunge_result = {mailbox::Status::temp_fail, "disk full"}; };
    const Transcript r = run_text(login() + "DELE 1\r\nQUIT\r\n");
    EXPECT_EQ(r.end, SessionEnd::update_failed);
    EXPECT_EQ(replies(r).back(), "-ERR [SYS/TEMP] no messages deleted, try again later\r");
}

TEST_F(SessionTest, QuitSaysWhyNothingWasDeleted) {
    const std::pair<mailbox::Status, std::string> cases[] = {
        {mailbox::Status::changed, "-ERR [SYS/TEMP] mailbox changed by another program, no messages deleted\r"},
        {mailbox::Status::in_use, "-ERR [SYS/TEMP] maildrop locked by another program, no messages deleted\r"},
        {mailbox::Status::perm_fail, "-ERR [SYS/PERM] maildrop is read-only, no messages deleted\r"},
    };
    for (const auto& [status, text] : cases) {
        opener.tweak = [status = status](MemoryMaildrop& md) { md.expunge_result = {status, "x"}; };
        EXPECT_EQ(replies(run_text(login() + "DELE 1\r\nQUIT\r\n")).back(), text);
    }
}

TEST_F(SessionTest, AfterTheMailboxChangedTheSessionIsReadOnly) {
    opener.tweak = [](MemoryMaildrop& md) { md.writable_result = {mailbox::Status::changed, "x"}; };
    const Transcript r = run_text(login() + "DELE 1\r\nRETR 2\r\nQUIT\r\n");
    const auto l = replies(r);
    EXPECT_EQ(l[2], "-ERR [SYS/TEMP] mailbox changed by another program, deleting is off for this session\r");
    EXPECT_TRUE(starts(l[3], "+OK"));  // reading goes on
    EXPECT_EQ(l.back(), "+OK pop3d signing off (0 messages deleted)\r");
    EXPECT_EQ(opener.stats.expunged, std::vector<bool>({false, false, false}));
    opener.tweak = [](MemoryMaildrop& md) { md.writable_result = {mailbox::Status::perm_fail, "x"}; };
    EXPECT_EQ(replies(run_text(login() + "DELE 1\r\n")).back(), "-ERR [SYS/PERM] maildrop is read-only\r");
}

TEST_F(SessionTest, QuitInAuthorizationJustCloses) {
    const Transcript r = run_text("QUIT\r\nNOOP\r\n");
    EXPECT_EQ(replies(r), std::vector<std::string>({"+OK pop3d signing off\r"}));
    EXPECT_EQ(r.end, SessionEnd::quit);
}

TEST_F(SessionTest, RetrIsDotStuffedAndTerminated) {
    const Transcript r = run_text(login() + "RETR 2\r\n");
    const std::string expected = "+OK " + std::to_string(kMessages[1].size()) +
                                 " octets\r\nSubject: two\r\n\r\n..dot\r\n...two dots\r\nline 2\r\nline 3\r\n.\r\n";
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
}

TEST_F(SessionTest, TopSendsHeadersBlankLineAndNLines) {
    const Transcript r = run_text(login() + "TOP 2 0\r\nTOP 2 2\r\nTOP 2 1000000\r\n");
    EXPECT_NE(r.output.find("+OK top of message follows\r\nSubject: two\r\n\r\n.\r\n"), std::string::npos);
    EXPECT_NE(r.output.find("+OK top of message follows\r\nSubject: two\r\n\r\n..dot\r\n...two dots\r\n.\r\n"),
              std::string::npos);
    EXPECT_NE(r.output.find("+OK top of message follows\r\nSubject: two\r\n\r\n..dot\r\n...two dots\r\nline 2\r\n"
                            "line 3\r\n.\r\n"),
              std::string::npos);
}

TEST_F(SessionTest, CapaBeforeAndAfterLogin) {
    const Transcript r = run_text("CAPA\r\n" + login() + "CAPA\r\n");
    const std::string before = "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN\r\nRESP-CODES\r\n"
                               "AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\n.\r\n";
    EXPECT_NE(r.output.find(before), std::string::npos);
    EXPECT_NE(r.output.find("PIPELINING\r\nEXPIRE NEVER\r\nIMPLEMENTATION pop3d\r\n.\r\n"), std::string::npos);
    EXPECT_EQ(r.output.find("IMPLEMENTATION"), r.output.rfind("IMPLEMENTATION"));  // only after login
}

TEST_F(SessionTest, BadPasswordAndUnknownUserGetTheSameAnswerAfterTheSameDelay) {
    settings.login_fail_delay = std::chrono::seconds(3);
    const Transcript bad = run_text("USER alice\r\nPASS wrong\r\n");
    const auto slept_bad = clock.slept_;
    clock.slept_.clear();
    const Transcript unknown = run_text("USER nosuch\r\nPASS wrong\r\n");
    EXPECT_EQ(replies(bad), replies(unknown));
    EXPECT_EQ(replies(bad)[1], "-ERR [AUTH] authentication failed\r");
    ASSERT_EQ(slept_bad.size(), 1u);
    ASSERT_EQ(clock.slept_.size(), 1u);
    EXPECT_EQ(slept_bad[0], std::chrono::seconds(3));
    EXPECT_EQ(clock.slept_[0], std::chrono::seconds(3));
}

TEST_F(SessionTest, UserAnswerDoesNotRevealWhetherTheUserExists) {
    const Transcript a = run_text("USER alice\r\n");
    const Transcript b = run_text("USER nosuch\r\n");
    EXPECT_EQ(replies(a), replies(b));
}

TEST_F(SessionTest, PassNeedsAFreshUser) {
    const Transcript r = run_text("PASS secret\r\nUSER alice\r\nPASS bad\r\nPASS secret\r\nUSER alice\r\nPASS secret\r\nSTAT\r\n");
    const auto l = replies(r);
    EXPECT_EQ(l[0], "-ERR send USER first\r");
    EXPECT_EQ(l[2], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(l[3], "-ERR send USER first\r");
    EXPECT_TRUE(starts(l[5], "+OK maildrop has"));
    EXPECT_TRUE(starts(l[6], "+OK 3 "));
}

TEST_F(SessionTest, PasswordMayContainSpaces) {
    const Transcript r = run_text("USER carol\r\nPASS a b c\r\n");
    EXPECT_TRUE(starts(replies(r)[1], "+OK maildrop has"));
    EXPECT_EQ(auth.calls.back().second, "a b c");
}

TEST_F(SessionTest, UserNamesThatCouldReachAPathAreRefusedBeforeAuth) {
    for (const char* name : {"../etc", "a/b", "..", ".", "-rf", "al ice"}) {
        const Transcript r = run_text(std::string("USER ") + name + "\r\nPASS x\r\n");
        const auto l = replies(r);
        EXPECT_EQ(l[0], "-ERR [AUTH] invalid user name\r") << name;
        EXPECT_EQ(l[1], "-ERR send USER first\r") << name;
    }
    EXPECT_TRUE(auth.calls.empty());
    const Transcript nul = run({std::string("USER alice\0bob\r\n", 16), "PASS secret\r\n"});
    EXPECT_EQ(replies(nul)[0], "-ERR invalid characters in command\r");
    EXPECT_TRUE(auth.calls.empty());
}

TEST_F(SessionTest, LongestUserNameAllowedByRfc2449IsProcessed) {
    settings.max_username_length = 250;
    const std::string name(250, 'a');  // "USER " + 250 + CRLF = 257 > 255
    const Transcript too_long = run_text("USER " + name + "\r\n");
    EXPECT_EQ(replies(too_long)[0], "-ERR line too long\r");
    const std::string fits(248, 'a');  // exactly 255 octets with CRLF
    const Transcript ok = run_text("USER " + fits + "\r\n");
    EXPECT_EQ(replies(ok)[0], "+OK send PASS\r");
}

TEST_F(SessionTest, TooManyFailedLoginsCloseTheConnection) {
    settings.max_auth_failures = 2;
    const Transcript r = run_text("USER a\r\nPASS b\r\nUSER a\r\nPASS b\r\nUSER a\r\n");
    EXPECT_EQ(r.end, SessionEnd::auth_failures);
    EXPECT_EQ(replies(r).size(), 4u);
}

TEST_F(SessionTest, AuthServiceFailureIsTemporary) {
    auth.unavailable = true;
    const Transcript r = run_text("USER alice\r\nPASS secret\r\n");
    EXPECT_EQ(replies(r)[1], "-ERR [SYS/TEMP] Service temporarily unavailable, try later\r");
}

TEST_F(SessionTest, LockedMaildropGetsInUseAndCloses) {
    opener.result = {mailbox::Status::in_use, "busy"};
    const Transcript r = run_text(login() + "STAT\r\n");
    const auto l = replies(r);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_TRUE(starts(l[1], "-ERR [IN-USE] "));
    EXPECT_NE(l[1].find("lock"), std::string::npos);  // fetchmail reads this as "busy"
    EXPECT_EQ(r.end, SessionEnd::login_refused);
}

TEST_F(SessionTest, MaildropFailuresCarrySysCodes) {
    opener.result = {mailbox::Status::perm_fail, "symlink"};
    EXPECT_TRUE(starts(replies(run_text(login()))[1], "-ERR [SYS/PERM] "));
    opener.result = {mailbox::Status::temp_fail, "io"};
    EXPECT_TRUE(starts(replies(run_text(login()))[1], "-ERR [SYS/TEMP] "));
}

TEST_F(SessionTest, AuthFailureTextNeverSaysLockOrWait) {
    for (std::string_view t : {"-ERR [AUTH] authentication failed", "-ERR [AUTH] invalid user name"}) {
        EXPECT_EQ(t.find("lock"), std::string::npos);
        EXPECT_EQ(t.find("wait"), std::string::npos);
    }
}

TEST_F(SessionTest, PipelinedCommandsAreAnsweredInOrderInOneWrite) {
    const Transcript r = run({login() + "STAT\r\nLIST\r\nUIDL\r\nNOOP\r\n"});
    const auto l = replies(r);
    EXPECT_TRUE(starts(l[2], "+OK 3 "));
    EXPECT_TRUE(starts(l[3], "+OK 3 messages"));
    EXPECT_EQ(l.back(), "+OK\r");
    EXPECT_EQ(writes, 2);  // greeting, then one write for the whole batch
}

TEST_F(SessionTest, CommandsSplitAcrossReadsAreReassembled) {
    const Transcript r = run({"US", "ER al", "ice\r", "\nPA", "SS secret\r\nST", "AT\r\n"});
    EXPECT_TRUE(starts(replies(r)[2], "+OK 3 "));
}

TEST_F(SessionTest, BareLfLineEndsAreAccepted) {
    const Transcript r = run_text("USER alice\nPASS secret\nSTAT\n");
    EXPECT_TRUE(starts(replies(r)[2], "+OK 3 "));
}

TEST_F(SessionTest, LongLineIsRefusedWithoutBeingBufferedAndTheSessionGoesOn) {
    const std::string huge(10 * 1024, 'A');
    const Transcript r = run({login(), huge.substr(0, 5000), huge.substr(5000) + "\r\n", "NOOP\r\n"});
    const auto l = replies(r);
    ASSERT_EQ(l.size(), 4u);
    EXPECT_EQ(l[2], "-ERR line too long\r");
    EXPECT_EQ(l[3], "+OK\r");
}

TEST_F(SessionTest, BinaryGarbageGetsErrors) {
    std::string garbage;
    for (int i = 0; i < 256; ++i) garbage.push_back(static_cast<char>(i));
    settings.max_command_errors = 0;
    const Transcript r = run({garbage + "\r\n\xff\xfe\r\nNOOP\r\n" + login() + "NOOP\r\n"});
    EXPECT_EQ(replies(r).back(), "+OK\r");
}

TEST_F(SessionTest, TooManyCommandErrorsDisconnect) {
    settings.max_command_errors = 3;
    const Transcript r = run_text("A\r\nB\r\nC\r\nD\r\n");
    const auto l = replies(r);
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[2], "-ERR too many errors, closing connection\r");
    EXPECT_EQ(r.end, SessionEnd::too_many_errors);
}

TEST_F(SessionTest, IdleTimeoutClosesWithoutAResponseOrUpdate) {
    settings.idle_timeout = std::chrono::seconds(600);
    const Transcript r = run({login() + "DELE 1\r\n"}, session::ReadStatus::timeout);
    EXPECT_EQ(r.end, SessionEnd::timeout);
    EXPECT_EQ(replies(r).back(), "+OK message 1 deleted\r");
    EXPECT_EQ(opener.stats.expunge_calls, 0);
    EXPECT_EQ(timeouts.back(), std::chrono::seconds(600));
}

// A client that pipelines with a window (or sends its next command as soon
// as it has read an answer) is back within kKeepBuffers: the session keeps
// the output buffer and the maildrop's read-ahead window for it. A quiet
// client gives them back before each wait; the idle timeout is unchanged.
TEST_F(SessionTest, AClientBackAtOnceKeepsTheBuffersAQuietOneGivesThemBack) {
    settings.idle_timeout = std::chrono::seconds(600);
    for (const bool quick : {true, false}) {
        ScriptTransport t({login(), "RETR 1\r\n", "RETR 2\r\n", "QUIT\r\n"});
        t.client_quick = quick;
        session::Session s(t, auth, opener, clock, settings, {});
        EXPECT_EQ(s.run(), SessionEnd::quit);
        EXPECT_EQ(opener.stats.buffer_releases, quick ? 0 : 3) << quick;  // the waits after PASS and each RETR
        ASSERT_FALSE(t.grace_waits.empty());
        for (const auto w : t.grace_waits) EXPECT_EQ(w, std::chrono::milliseconds(20));
        EXPECT_EQ(t.timeouts.back(), std::chrono::seconds(600));
    }
}

// A quiet client is waited for with idle_wait (no input buffer held, the
// stack given back) before the read; the read gets what is left of the
// timeout. A client back at once is read straight away.
TEST_F(SessionTest, AQuietClientIsWaitedForWithoutBuffersAndTheTimeoutStillHolds) {
    settings.idle_timeout = std::chrono::seconds(600);
    for (const bool quick : {true, false}) {
        ScriptTransport t({login(), "STAT\r\n", "QUIT\r\n"});
        t.client_quick = quick;
        t.during_idle_wait = [this] { clock.advance(std::chrono::seconds(100)); };
        session::Session s(t, auth, opener, clock, settings, {});
        EXPECT_EQ(s.run(), SessionEnd::quit);
        if (quick) {
            EXPECT_TRUE(t.idle_waits.empty());
            EXPECT_EQ(t.timeouts.back(), std::chrono::seconds(600));
            continue;
        }
        ASSERT_EQ(t.idle_waits.size(), t.timeouts.size());  // before every read
        EXPECT_EQ(t.idle_waits.back(), std::chrono::seconds(600));
        EXPECT_EQ(t.timeouts.back(), std::chrono::seconds(500));  // 100 s went by in the wait
    }
}

// The login deadline counts the time spent in idle_wait: a client quiet
// past it ends with a timeout, not with a fresh login_timeout.
TEST_F(SessionTest, TimeInTheIdleWaitCountsAgainstTheLoginDeadline) {
    settings.login_timeout = std::chrono::seconds(120);
    ScriptTransport t({"NOOP\r\n"}, session::ReadStatus::timeout);
    t.during_idle_wait = [this] { clock.advance(std::chrono::seconds(200)); };
    session::Session s(t, auth, opener, clock, settings, {});
    EXPECT_EQ(s.run(), SessionEnd::timeout);
    ASSERT_FALSE(t.timeouts.empty());
    EXPECT_EQ(t.timeouts[0], std::chrono::milliseconds(0));
}

TEST_F(SessionTest, LoginTimeoutIsADeadlineFromConnect) {
    settings.login_timeout = std::chrono::seconds(120);
    ScriptTransport t({"NOOP\r\n"}, session::ReadStatus::timeout);
    session::Session s(t, auth, opener, clock, settings, {});
    EXPECT_EQ(s.run(), SessionEnd::timeout);
    ASSERT_EQ(t.timeouts.size(), 2u);
    EXPECT_EQ(t.timeouts[0], std::chrono::seconds(120));
}

TEST_F(SessionTest, ShutdownEndsAnIdleSessionWithoutUpdate) {
    const Transcript r = run({login() + "DELE 1\r\n"}, session::ReadStatus::stopped);
    EXPECT_EQ(r.end, SessionEnd::stopped);
    EXPECT_EQ(opener.stats.expunge_calls, 0);
    ASSERT_FALSE(r.lines.empty());
    EXPECT_EQ(r.lines.back(), "-ERR [SYS/TEMP] server shutting down, try again later\r");
}

TEST_F(SessionTest, ShutdownTellsASessionWaitingToLogIn) {
    const Transcript r = run({}, session::ReadStatus::stopped);
    EXPECT_EQ(r.end, SessionEnd::stopped);
    EXPECT_EQ(r.output, "+OK POP3 server ready\r\n-ERR [SYS/TEMP] server shutting down, try again later\r\n");
}

TEST_F(SessionTest, ShutdownStopsPipelinedCommandsAtTheNextBoundary) {
    // The stop comes while the second piece is being read: nothing of it runs, not even QUIT.
    ScriptTransport t({login(), "DELE 1\r\nQUIT\r\n"});
    t.stop_after_reads = 2;
    session::Session s(t, auth, opener, clock, settings, {});
    EXPECT_EQ(s.run(), SessionEnd::stopped);
    EXPECT_EQ(t.output, "+OK POP3 server ready\r\n+OK send PASS\r\n+OK maildrop has 3 messages (" +
                            std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) +
                            " octets)\r\n-ERR [SYS/TEMP] server shutting down, try again later\r\n");
    EXPECT_EQ(opener.stats.expunge_calls, 0);
}

TEST_F(SessionTest, UidlFailureIsTemporaryAndTheSessionGoesOn) {
    opener.tweak = [](MemoryMaildrop& md) { md.fail_uids = true; };
    ScriptTransport t({login() + "UIDL\r\nNOOP\r\n"});
    session::Session s(t, auth, opener, clock, settings, {});
    s.run();
    EXPECT_NE(t.output.find("-ERR [SYS/TEMP] mailbox changed since login, unique ids unavailable\r\n+OK\r\n"),
              std::string::npos);
}

TEST_F(SessionTest, MessageThatChangedIsRefusedBeforeAnyByteIsSent) {
    opener.tweak = [](MemoryMaildrop& md) { md.fail_check = true; };
    ScriptTransport t({login() + "RETR 1\r\nNOOP\r\n"});
    session::Session s(t, auth, opener, clock, settings, {});
    s.run();
    EXPECT_NE(t.output.find("-ERR [SYS/TEMP] mailbox changed since login, message unavailable\r\n+OK\r\n"),
              std::string::npos);
}

TEST_F(SessionTest, FailureInTheMiddleOfAMessageClosesWithoutTheTerminator) {
    opener.tweak = [](MemoryMaildrop& md) { md.fail_send_after = 10; };
    ScriptTransport t({login() + "RETR 2\r\nNOOP\r\n"});
    session::Session s(t, auth, opener, clock, settings, {});
    EXPECT_EQ(s.run(), SessionEnd::io_error);
    EXPECT_EQ(t.output.find(".\r\n+OK"), std::string::npos);
    EXPECT_NE(t.output.rfind("Subject: "), std::string::npos);
    EXPECT_EQ(t.output.substr(t.output.size() - 10), "Subject: t") << "cut mid-message, no final dot";
}

TEST_F(SessionTest, ResponseLinesStayWithin512Octets) {
    settings.max_username_length = 200;
    const Transcript r = run_text("USER " + std::string(200, 'x') + "\r\nPASS " + std::string(240, 'p') + "\r\n" + login() +
                           "CAPA\r\nLIST\r\nUIDL\r\n");
    for (const std::string& line : r.lines) {
        EXPECT_LE(line.size() + 1, 512u);
    }
}

TEST_F(SessionTest, ResponseCodesHaveTheRfc2449Form) {
    opener.result = {mailbox::Status::in_use, "x"};
    const Transcript r = run_text("USER bad/name\r\nUSER a\r\nPASS b\r\n" + login());
    const std::regex code(R"(^[-+](OK|ERR) \[[^\]/ ]+(/[^\]/ ]+)*\].*)");
    for (const std::string& line : r.lines) {
        const auto sp = line.find(' ');
        if (sp != std::string::npos && sp + 1 < line.size() && line[sp + 1] == '[') {
            EXPECT_TRUE(std::regex_match(line.substr(0, line.size() - 1), code)) << line;
        }
    }
}
