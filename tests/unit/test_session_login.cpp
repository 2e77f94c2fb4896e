// The AUTHORIZATION state beyond USER/PASS (session/session_login): AUTH
// PLAIN, STLS, the plaintext policy, LOGIN-DELAY, and EXPIRE, over the
// scripted transport.
#include "auth/sasl_plain.hpp"
#include "fakes.hpp"
#include "session/session.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace pop3d;
using namespace pop3d::testing;
using session::SessionEnd;

namespace {

const std::vector<std::string> kMessages = {"Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\nsecond\r\n"};

std::string plain(const std::string& user, const std::string& password, const std::string& authzid = "") {
    return auth::encode_base64(authzid + std::string(1, '\0') + user + std::string(1, '\0') + password);
}

class SessionExtTest : public ::testing::Test {
protected:
    SessionExtTest() : opener(kMessages) { auth.passwords = {{"alice", "secret"}}; }

    std::vector<std::string> run(std::vector<std::string> pieces) {
        ScriptTransport t(std::move(pieces));
        t.tls_capable = tls_capable;
        t.tls_handshake_ok = handshake_ok;
        session::Session s(t, auth, opener, clock, settings, auth::ClientInfo{"192.0.2.1"});
        end = s.run();
        output = t.output;
        return reply_lines(t.output);
    }

    FakeAuthenticator auth;
    FakeOpener opener;
    FakeClock clock;
    session::SessionSettings settings;
    bool tls_capable = false;
    bool handshake_ok = true;
    SessionEnd end{};
    std::string output;
};

}  // namespace

TEST_F(SessionExtTest, AuthPlainWithAndWithoutInitialResponse) {
    auto l = run({"AUTH PLAIN " + plain("alice", "secret") + "\r\nSTAT\r\n"});
    EXPECT_EQ(l[0], "+OK maildrop has 2 messages (" + std::to_string(kMessages[0].size() + kMessages[1].size()) +
                        " octets)\r");
    EXPECT_TRUE(l[1].rfind("+OK 2 ", 0) == 0);
    l = run({"AUTH PLAIN\r\n", plain("alice", "secret") + "\r\n", "STAT\r\n"});
    EXPECT_EQ(l[0], "+ \r");
    EXPECT_TRUE(l[1].rfind("+OK maildrop", 0) == 0);
    EXPECT_EQ(auth.calls.back(), (std::pair<std::string, std::string>{"alice", "secret"}));
}

TEST_F(SessionExtTest, AuthFailuresLeaveTheSessionInAuthorization) {
    settings.max_command_errors = 0;
    auto l = run({"AUTH PLAIN\r\n*\r\nAUTH PLAIN " + plain("alice", "bad") + "\r\nAUTH PLAIN =\r\nAUTH PLAIN !!!!\r\n"
                  "AUTH X\r\nUSER alice\r\n"});
    EXPECT_EQ(l[0], "+ \r");
    EXPECT_EQ(l[1], "-ERR authentication cancelled\r");
    EXPECT_EQ(l[2], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(l[3], "-ERR [AUTH] invalid PLAIN credentials\r");
    EXPECT_EQ(l[4], "-ERR invalid base64 in the SASL response\r");
    EXPECT_EQ(l[5], "-ERR unsupported authentication mechanism\r");
    EXPECT_EQ(l[6], "+OK send PASS\r");
    ASSERT_EQ(clock.slept_.size(), 1u);  // the bad password got the uniform delay
}

TEST_F(SessionExtTest, AuthzidMustBeEmptyOrTheUser) {
    auto l = run({"AUTH PLAIN " + plain("alice", "secret", "root") + "\r\n"});
    EXPECT_EQ(l[0], "-ERR [AUTH] authentication failed\r");
    EXPECT_TRUE(auth.calls.empty());
    l = run({"AUTH PLAIN " + plain("alice", "secret", "alice") + "\r\n"});
    EXPECT_TRUE(l[0].rfind("+OK maildrop", 0) == 0);
}

TEST_F(SessionExtTest, NoPlaintextAuthWithoutTls) {
    settings.plaintext_auth = false;
    tls_capable = true;
    run({"CAPA\r\nUSER alice\r\nAUTH PLAIN " + plain("alice", "secret") + "\r\nSTLS\r\n",
         "CAPA\r\nUSER alice\r\nPASS secret\r\nCAPA\r\n"});
    const std::string out = output;
    const std::size_t tls = out.find("<TLS>");
    ASSERT_NE(tls, std::string::npos);
    const std::string before = out.substr(0, tls), after = out.substr(tls);
    EXPECT_EQ(before.find("\r\nUSER\r\n"), std::string::npos);
    EXPECT_EQ(before.find("SASL PLAIN"), std::string::npos);
    EXPECT_NE(before.find("\r\nSTLS\r\n"), std::string::npos);
    EXPECT_NE(before.find("-ERR [AUTH] plaintext authentication needs TLS: use STLS first\r\n-ERR [AUTH] plaintext "
                          "authentication needs TLS: use STLS first\r\n+OK begin TLS negotiation\r\n"),
              std::string::npos);
    EXPECT_NE(after.find("\r\nUSER\r\nSASL PLAIN\r\n"), std::string::npos);
    EXPECT_EQ(after.find("STLS"), std::string::npos);
    EXPECT_NE(after.find("+OK maildrop has 2 messages"), std::string::npos);
}

TEST_F(SessionExtTest, StlsDiscardsWhatCameWithIt) {
    tls_capable = true;
    auto l = run({"STLS\r\nUSER alice\r\n", "PASS secret\r\n"});
    EXPECT_EQ(l[0], "+OK begin TLS negotiation\r");
    EXPECT_EQ(l[1], "<TLS>-ERR send USER first\r");
}

TEST_F(SessionExtTest, StlsRules) {
    auto l = run({"STLS\r\n"});
    EXPECT_EQ(l[0], "-ERR TLS is not available\r");
    tls_capable = true;
    l = run({"STLS\r\n", "STLS\r\n", "STLS x\r\n"});
    EXPECT_EQ(l[1], "<TLS>-ERR TLS is already active\r");
    EXPECT_EQ(l[2], "-ERR invalid arguments\r");
    l = run({"USER alice\r\nPASS secret\r\nSTLS\r\n"});
    EXPECT_EQ(l[2], "-ERR command not valid in this state\r");
    handshake_ok = false;
    l = run({"STLS\r\nNOOP\r\n"});
    EXPECT_EQ(end, SessionEnd::io_error);
}

TEST_F(SessionExtTest, LoginDelay) {
    settings.login_delay = 60;
    opener.result = {mailbox::Status::too_soon, "x"};
    auto l = run({"CAPA\r\nUSER alice\r\nPASS secret\r\n"});
    EXPECT_NE(output.find("\r\nLOGIN-DELAY 60\r\n"), std::string::npos);
    EXPECT_EQ(l.back(), "-ERR [LOGIN-DELAY] minimum time between logins not reached, try later\r");
}

TEST_F(SessionExtTest, ExpireZeroDeletesWhatWasRetrieved) {
    settings.expire_days = 0u;
    auto l = run({"USER alice\r\nPASS secret\r\nCAPA\r\nRETR 2\r\nTOP 1 0\r\nQUIT\r\n"});
    EXPECT_NE(output.find("\r\nEXPIRE 0\r\n"), std::string::npos);
    EXPECT_EQ(opener.stats.expunged, std::vector<bool>({false, true}));
    settings.expire_days = 30u;
    run({"USER alice\r\nPASS secret\r\nCAPA\r\nRETR 2\r\nQUIT\r\n"});
    EXPECT_NE(output.find("\r\nEXPIRE 30\r\n"), std::string::npos);
    EXPECT_EQ(opener.stats.expunged, std::vector<bool>({false, false}));
}
