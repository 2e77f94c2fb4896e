// Logins that must give nothing away and hold no one longer than the login
// deadline: accounts that can never be served answer like a wrong password;
// client-chosen text cannot pose as another log field; before login a
// client that never reads is cut at the deadline.
#include "auth/sasl_plain.hpp"
#include "fakes.hpp"
#include "log_capture.hpp"
#include "log/log.hpp"
#include "session/session.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

using namespace pop3d;
using namespace pop3d::testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

class LoginSafetyTest : public ::testing::Test {
protected:
    LoginSafetyTest() : opener({"Subject: x\r\n\r\nx\r\n"}) {
        auth.passwords = {{"alice", "secret"}, {"root", "toor"}};
        auth.uids = {{"root", 0}};
        settings.login_fail_delay = seconds(2);
    }
    // The replies after the greeting; `transport` keeps the last one's state.
    std::vector<std::string> run(const std::string& input) { return run(std::vector<std::string>{input}); }
    std::vector<std::string> run(std::vector<std::string> pieces) {
        transport = std::make_unique<ScriptTransport>(std::move(pieces));
        transport->good_writes = good_writes;
        clock.slept_.clear();
        session::Session s(*transport, auth, opener, clock, settings, auth::ClientInfo{"192.0.2.1"});
        end = s.run();
        return reply_lines(transport->output);
    }
    FakeAuthenticator auth;
    FakeOpener opener;
    FakeClock clock;
    session::SessionSettings settings;
    std::unique_ptr<ScriptTransport> transport;
    int good_writes = -1;  // then the client stops reading: sends give up at their limit
    session::SessionEnd end{};
};

}  // namespace

TEST_F(LoginSafetyTest, RootsRightPasswordIsAnsweredLikeAWrongOne) {
    LogCapture log;
    const auto right = run("USER root\r\nPASS toor\r\n");
    const auto right_waits = clock.slept_;
    const auto wrong = run("USER root\r\nPASS wrong\r\n");
    EXPECT_EQ(right, wrong);
    EXPECT_EQ(right[1], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(right_waits, clock.slept_);
    EXPECT_EQ(right_waits, (std::vector<FakeClock::duration>{seconds(2)}));
    EXPECT_EQ(opener.opens, 0);  // the maildrop is never opened
    // The same through AUTH PLAIN, and the session goes on like after any failure.
    const auto sasl = run("AUTH PLAIN " + auth::encode_base64(std::string("\0root\0toor", 10)) + "\r\nCAPA\r\n");
    EXPECT_EQ(sasl[0], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(sasl[1], "+OK capability list follows\r");
    EXPECT_NE(log.text().find("login failed user=root rip=192.0.2.1 (uid 0 is never served)"), std::string::npos)
        << log.text();
}

TEST_F(LoginSafetyTest, WithoutRootAnotherUidIsAnsweredLikeAWrongPassword) {
    settings.running_as = 1000;
    auth.uids["me"] = 1000;
    auth.passwords["me"] = "mine";
    EXPECT_EQ(run("USER alice\r\nPASS secret\r\n")[1], "-ERR [AUTH] authentication failed\r");
    EXPECT_EQ(opener.opens, 0);
    EXPECT_TRUE(run("USER me\r\nPASS mine\r\n")[1].rfind("+OK maildrop", 0) == 0);
}

TEST_F(LoginSafetyTest, AnAuthorizationIdentityCannotForgeLogFields) {
    LogCapture log;
    const std::string forged = "x rip=10.9.9.9 user=root";
    run("AUTH PLAIN " + auth::encode_base64(forged + std::string(1, '\0') + "alice" + std::string(1, '\0') + "x") +
        "\r\n");
    const std::string text = log.text();
    const std::size_t at = text.find("login failed user=alice ");
    ASSERT_NE(at, std::string::npos) << text;
    const std::string line = text.substr(at, text.find('\n', at) - at);
    const std::regex field(" (rip|user)=");
    EXPECT_EQ(std::distance(std::sregex_iterator(line.begin(), line.end(), field), std::sregex_iterator()), 2) << line;
    EXPECT_NE(line.find("'x\\x20rip=10.9.9.9\\x20user=root'"), std::string::npos) << line;
}

TEST_F(LoginSafetyTest, BeforeLoginSendsAreBoundByWhatIsLeftOfTheLoginDeadline) {
    settings.login_timeout = seconds(120);
    run({"USER alice\r\nPASS wrong\r\n", "USER alice\r\nPASS secret\r\n", "STAT\r\n"});
    const auto& limits = transport->send_limits;
    ASSERT_EQ(limits.size(), 3u);
    EXPECT_EQ(limits[0], seconds(120));         // the greeting
    EXPECT_EQ(limits[1], seconds(118));         // after the 2 s failure delay
    EXPECT_EQ(limits[2], milliseconds::max());  // logged in: the send timeout alone
}

TEST_F(LoginSafetyTest, AClientThatNeverReadsBeforeLoginIsCutAtTheLoginDeadline) {
    settings.login_timeout = seconds(1);
    good_writes = 1;  // the greeting; then the client stops reading
    run("USER alice\r\nPASS wrong\r\n");  // the failure delay (2 s) passes the deadline
    EXPECT_EQ(end, session::SessionEnd::timeout);
    EXPECT_EQ(transport->send_limits, (std::vector<milliseconds>{seconds(1), milliseconds(0), milliseconds(0)}));
    // Within the deadline a send that fails is the client's loss, not a timeout.
    settings.login_timeout = seconds(120);
    run("CAPA\r\n");
    EXPECT_EQ(end, session::SessionEnd::io_error);
}
