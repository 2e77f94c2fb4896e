// What the session logs: a line for every refusal a client gets before
// login, and the connection (session id) the caller gave it.
#include "auth/sasl_plain.hpp"
#include "fakes.hpp"
#include "log_capture.hpp"
#include "log/log.hpp"
#include "session/session.hpp"

#include <gtest/gtest.h>

using namespace pop3d;
using namespace pop3d::testing;

namespace {

class SessionLogTest : public ::testing::Test {
protected:
    SessionLogTest() : opener({"Subject: x\r\n\r\nx\r\n"}) { auth.passwords = {{"alice", "secret"}}; }

    std::string run(std::vector<std::string> pieces) {
        LogCapture log;
        ScriptTransport t(std::move(pieces));
        t.tls_capable = tls_capable;
        const log::Connection connection{"192.0.2.1", {}, "sess1234"};
        const log::ConnectionScope scope(connection);  // what serve_connection does
        session::Session s(t, auth, opener, clock, settings, auth::ClientInfo{"192.0.2.1"}, nullptr, connection);
        EXPECT_EQ(s.id(), "sess1234");
        s.run();
        output = t.output;
        return log.text();
    }

    FakeAuthenticator auth;
    FakeOpener opener;
    FakeClock clock;
    session::SessionSettings settings;
    bool tls_capable = false;
    std::string output;
};

TEST_F(SessionLogTest, PlaintextBeforeStlsIsLogged) {
    settings.plaintext_auth = false;
    tls_capable = true;
    const std::string log = run({"USER alice\r\nAUTH PLAIN " + auth::encode_base64(std::string("\0alice\0secret", 13)) +
                                 "\r\nQUIT\r\n"});
    EXPECT_NE(log.find("login refused user=alice rip=192.0.2.1 (USER before STLS: plaintext passwords need TLS "
                       "here; see allow_plaintext_auth) session=sess1234\n"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("login refused rip=192.0.2.1 (AUTH PLAIN before STLS: "), std::string::npos) << log;
    EXPECT_EQ(log.find("secret"), std::string::npos);
}

TEST_F(SessionLogTest, EveryOtherRefusalBeforeLoginIsLogged) {
    const std::string log = run({"USER a\tb\r\nAUTH CRAM-MD5\r\nAUTH PLAIN !!!\r\nAUTH PLAIN " +
                                 auth::encode_base64("no-nul-here") + "\r\nSTLS\r\nQUIT\r\n"});
    EXPECT_NE(output.find("-ERR [AUTH] invalid user name"), std::string::npos);
    EXPECT_NE(log.find("login refused user=a\\x09b rip=192.0.2.1 (invalid user name) session=sess1234"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("login refused rip=192.0.2.1 (unsupported SASL mechanism CRAM-MD5)"), std::string::npos);
    EXPECT_NE(log.find("login refused rip=192.0.2.1 (invalid base64 in AUTH PLAIN)"), std::string::npos);
    EXPECT_NE(log.find("login refused rip=192.0.2.1 (malformed AUTH PLAIN credentials)"), std::string::npos);
    EXPECT_NE(log.find("STLS refused rip=192.0.2.1 (no TLS here: tls_cert and tls_key are not set)"),
              std::string::npos);
    EXPECT_NE(log.find("disconnect rip=192.0.2.1 reason=QUIT session=sess1234"), std::string::npos);
}

TEST_F(SessionLogTest, RefusalsCountAsCommandErrors) {
    // A client looping on a refused command is cut like any erring client,
    // so its lines cannot fill the log.
    settings.plaintext_auth = false;
    settings.max_command_errors = 3;
    const std::string log = run({"USER alice\r\nUSER alice\r\nUSER alice\r\nUSER alice\r\n"});
    EXPECT_NE(output.find("-ERR too many errors, closing connection"), std::string::npos) << output;
    EXPECT_NE(log.find("reason=errors"), std::string::npos) << log;
}

TEST_F(SessionLogTest, RefusalLinesAreCappedWithoutAnErrorLimit) {
    // max_command_errors = 0 cuts no one: a client looping on STLS must
    // still not write a line per command.
    settings.max_command_errors = 0;
    std::string input;
    for (int i = 0; i < 25; ++i) input += "STLS\r\n";
    const std::string log = run({input + "QUIT\r\n"});
    std::size_t lines = 0;
    for (std::size_t at = log.find("STLS refused"); at != std::string::npos; at = log.find("STLS refused", at + 1))
        ++lines;
    EXPECT_EQ(lines, session::Session::kMaxRefusalLines) << log;
    EXPECT_NE(log.find("disconnect rip=192.0.2.1 reason=QUIT unlogged_refusals=15 session=sess1234\n"),
              std::string::npos)
        << log;
}

TEST_F(SessionLogTest, ExpungeFailedNamesTheClient) {
    opener.tweak = [](MemoryMaildrop& m) { m.expunge_result = {mailbox::Status::temp_fail, "disk full"}; };
    const std::string log = run({"USER alice\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n"});
    EXPECT_NE(log.find("expunge failed user=alice rip=192.0.2.1: disk full session=sess1234\n"), std::string::npos)
        << log;
}

}  // namespace
