// Configuration: defaults, the file format, -o overrides and the errors.
#include "build_config.h"
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace pop3d::config;

namespace {

std::vector<Problem> parse(const std::string& text, Config& c) {
    std::vector<Problem> errors;
    parse_text(text, "test.conf", c, errors);
    return errors;
}

}  // namespace

TEST(Config, DefaultsServeVarMailThroughPamPop3) {
    const Config c = defaults();
    EXPECT_EQ(c.pam_service, POP3D_DEFAULT_PAM_SERVICE);
    EXPECT_EQ(c.mailbox, POP3D_DEFAULT_MAILBOX);
    EXPECT_EQ(std::string(POP3D_DEFAULT_PAM_SERVICE), "pop3");
    EXPECT_EQ(std::string(POP3D_DEFAULT_MAILBOX), "/var/mail/%u");
    EXPECT_EQ(c.idle_timeout, 600u);
    EXPECT_TRUE(c.mbox_unquote);
    EXPECT_EQ(c.mail_group, "mail");
    EXPECT_EQ(c.log_facility, "mail");
}

TEST(Config, KeyValueLinesCommentsAndBlankLines) {
    Config c = defaults();
    const auto errors = parse("# comment\n\n  pam_service = popper  \nidle_timeout=15m\nmbox_unquote = no\n"
                              "mailbox = %h/Mail/inbox\nlogin_timeout = 90s\nlock_timeout = 1h\n",
                              c);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(c.pam_service, "popper");
    EXPECT_EQ(c.idle_timeout, 900u);
    EXPECT_FALSE(c.mbox_unquote);
    EXPECT_EQ(c.mailbox, "%h/Mail/inbox");
    EXPECT_EQ(c.login_timeout, 90u);
    EXPECT_EQ(c.lock_timeout, 3600u);
}

TEST(Config, ErrorsNameFileAndLine) {
    Config c = defaults();
    const auto errors = parse("idle_timeout = 600\nbogus_key = 1\n\nidle_timeout = soon\nno equals sign\n", c);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_EQ(errors[0].where, "test.conf:2");
    EXPECT_NE(errors[0].message.find("unknown key 'bogus_key'"), std::string::npos);
    EXPECT_EQ(errors[1].where, "test.conf:4");
    EXPECT_NE(errors[1].message.find("idle_timeout"), std::string::npos);
    EXPECT_EQ(errors[2].where, "test.conf:5");
    EXPECT_EQ(errors[0].text(), "test.conf:2: " + errors[0].message);
}

TEST(Config, ACommentAfterAValueIsRefusedWithAHint) {
    const char* lines[] = {"idle_timeout = 700 # more than the RFC asks", "mailbox = /var/mail/%u # the default",
                           "tls_ciphers = # OpenSSL's", "mbox_unquote = yes\t# mboxrd"};
    for (const char* line : lines) {
        Config c = defaults();
        const auto errors = parse(line, c);
        ASSERT_EQ(errors.size(), 1u) << line;
        EXPECT_NE(errors[0].message.find("a comment needs a line of its own"), std::string::npos) << line;
        EXPECT_EQ(c.idle_timeout, defaults().idle_timeout);
        EXPECT_EQ(c.mailbox, defaults().mailbox);
    }
    Config c = defaults();
    EXPECT_TRUE(parse("# a comment line\n  # an indented one\ntls_ciphers = HIGH:!aNULL#x\n", c).empty());
    EXPECT_EQ(c.tls_ciphers, "HIGH:!aNULL#x");  // a '#' inside a value is part of it
}

TEST(Config, AnUnknownKeyNamesTheKeyItWasMostLikelyMeantToBe) {
    const std::pair<const char*, const char*> cases[] = {
        {"idel_timeout = 600", "unknown key 'idel_timeout' (did you mean 'idle_timeout'?)"},
        {"IDLE-TIMEOUT = 600", "unknown key 'IDLE-TIMEOUT' (did you mean 'idle_timeout'?)"},
        {"max_connection = 5", "unknown key 'max_connection' (did you mean 'max_connections'?)"},
        {"pam_sevrice = pop3", "unknown key 'pam_sevrice' (did you mean 'pam_service'?)"},
        {"mailbx = /var/mail/%u", "unknown key 'mailbx' (did you mean 'mailbox'?)"},
        {"bogus_key = 1", "unknown key 'bogus_key'"},
        {"timeout = 5", "unknown key 'timeout'"},
        {"x = 1", "unknown key 'x'"},
    };
    for (const auto& [line, message] : cases) {
        Config c = defaults();
        const auto errors = parse(line, c);
        ASSERT_EQ(errors.size(), 1u) << line;
        EXPECT_EQ(errors[0].message, message);
    }
}

TEST(Config, BadValuesAreRejected) {
    const char* bad[] = {
        "idle_timeout = 0",           "idle_timeout = -5",         "idle_timeout = 99999999999",
        "login_fail_delay = 61",      "mbox_unquote = maybe",      "mailbox = /var/mail/all",
        "mailbox = var/mail/%u",      "mailbox = /var/mail/%x",    "mailbox = /var/../etc/%u",
        "mailbox = /var/mail/%",      "pam_service = ../shadow",   "pam_service =",
        "log_facility = kern",        "log_file = relative.log",   "max_auth_failures = 0",
        "mail_group = a:b",           "pam_confdir = pam.d",       "max_username_length = 201",
    };
    for (const char* line : bad) {
        Config c = defaults();
        EXPECT_EQ(parse(line, c).size(), 1u) << line;
    }
}

TEST(Config, OverridesApplyAfterTheFile) {
    Config c = defaults();
    std::vector<Problem> errors;
    apply_override("idle_timeout=700", c, errors);
    apply_override("pam_service = other", c, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(c.idle_timeout, 700u);
    EXPECT_EQ(c.pam_service, "other");
    apply_override("nokey", c, errors);
    apply_override("nosuch=1", c, errors);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].text(), "-o nokey: expected key=value");
    EXPECT_EQ(errors[1].text(), "-o nosuch=1: unknown key 'nosuch'");
}

TEST(Config, AnOverrideErrorNamesTheOptionNotTheFile) {
    const LoadResult r = load("/nonexistent/pop3d.conf", false, {"idle_timeout=abc"});
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].text(), "-o idle_timeout=abc: expects a duration (seconds, or with s/m/h) from 1 to 86400");
}

TEST(Config, MissingDefaultFileMeansDefaultsButAMissingNamedFileIsAnError) {
    const LoadResult quiet = load("/nonexistent/pop3d.conf", false, {});
    EXPECT_TRUE(quiet.ok());
    const LoadResult loud = load("/nonexistent/pop3d.conf", true, {});
    ASSERT_FALSE(loud.ok());
    EXPECT_NE(loud.errors[0].text().find("/nonexistent/pop3d.conf"), std::string::npos);
}

TEST(Config, LoadReadsTheFileThenOverrides) {
    char name[] = "/tmp/pop3d-conf-XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    std::ofstream(name) << "idle_timeout = 900\npam_service = x\n";
    const LoadResult r = load(name, true, {"pam_service=y"});
    std::remove(name);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.config.idle_timeout, 900u);
    EXPECT_EQ(r.config.pam_service, "y");
}

TEST(Config, ShortIdleTimeoutWarns) {
    const LoadResult r = load("/nonexistent", false, {"idle_timeout=60"});
    EXPECT_TRUE(r.ok());
    ASSERT_EQ(r.warnings.size(), 1u);
}

TEST(Config, DumpListsEveryKeyAndRoundTrips) {
    Config c = defaults();
    c.idle_timeout = 1234;
    const std::string text = dump(c);
    for (const KeyInfo& k : keys()) {
        EXPECT_NE(text.find(std::string(k.name) + " = "), std::string::npos) << k.name;
    }
    Config back = defaults();
    std::vector<Problem> errors;
    parse_text(text, "dump", back, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(dump(back), text);
}

TEST(Config, EveryKeyIsDocumentedInTheManPage) {
    std::ifstream man(std::string(POP3D_SOURCE_DIR) + "/man/pop3d.conf.5");
    ASSERT_TRUE(man) << "man/pop3d.conf.5";
    std::stringstream ss;
    ss << man.rdbuf();
    for (const KeyInfo& k : keys()) {
        std::string escaped;
        for (char ch : k.name) {
            if (ch == '_') escaped += "\\(ul";
            else escaped.push_back(ch);
        }
        EXPECT_TRUE(ss.str().find(std::string(k.name)) != std::string::npos ||
                    ss.str().find(escaped) != std::string::npos)
            << k.name << " missing from pop3d.conf.5";
    }
}

// listen, proxy_trusted, expire and process_model are parsed once, when
// loaded: users of the config read the types, never the text again.
TEST(Config, ListsDurationsAndModelsAreParsedWhenLoaded) {
    const Config d = defaults();
    ASSERT_EQ(d.listen.value.size(), 1u);
    EXPECT_EQ(d.listen.value[0].port, 110);
    EXPECT_EQ(d.listen.value[0].family, AF_UNSPEC);
    EXPECT_FALSE(d.expire.value);
    EXPECT_TRUE(d.threads());
    EXPECT_TRUE(d.proxy_trusted.value.empty());

    Config c = defaults();
    EXPECT_TRUE(parse("listen = 127.0.0.1:1110, [::1]:995/tls\nprocess_model = fork\nexpire = 030\n"
                      "proxy_trusted = 10.0.0.0/8 2001:db8::/32\n",
                      c)
                    .empty());
    ASSERT_EQ(c.listen.value.size(), 2u);
    EXPECT_EQ(c.listen.value[0].host, "127.0.0.1");
    EXPECT_FALSE(c.listen.value[0].tls);
    EXPECT_EQ(c.listen.value[1].port, 995);
    EXPECT_TRUE(c.listen.value[1].tls);
    EXPECT_EQ(c.process_model, ProcessModel::fork);
    EXPECT_FALSE(c.threads());
    EXPECT_EQ(c.expire.value, 30u);
    EXPECT_TRUE(c.proxy_trusted.value.contains("10.1.2.3"));
    EXPECT_TRUE(c.proxy_trusted.value.contains("2001:db8::1"));
    EXPECT_FALSE(c.proxy_trusted.value.contains("192.0.2.1"));
    // pop3d -T shows them as written.
    const std::string text = dump(c);
    EXPECT_NE(text.find("\nlisten = 127.0.0.1:1110, [::1]:995/tls\n"), std::string::npos);
    EXPECT_NE(text.find("\nexpire = 030\n"), std::string::npos);
    EXPECT_NE(text.find("\nprocess_model = fork\n"), std::string::npos);
    EXPECT_NE(text.find("\nproxy_trusted = 10.0.0.0/8 2001:db8::/32\n"), std::string::npos);
}

TEST(Config, ARefusedListOrModelKeepsThePreviousValue) {
    Config c = defaults();
    const auto errors = parse("process_model = forks\nexpire = 36501\nexpire = x\nlisten = 1.2.3.4:99999\n"
                              "proxy_trusted = 10.0.0.0/33\n",
                              c);
    ASSERT_EQ(errors.size(), 5u);
    EXPECT_EQ(errors[0].text(), "test.conf:1: process_model: must be threads or fork");
    EXPECT_EQ(errors[1].text(), "test.conf:2: expire: must be never or a number of days (0-36500)");
    EXPECT_EQ(errors[2].text(), "test.conf:3: expire: must be never or a number of days (0-36500)");
    EXPECT_EQ(errors[3].text().rfind("test.conf:4: listen: ", 0), 0u) << errors[3].text();
    EXPECT_EQ(errors[4].text().rfind("test.conf:5: proxy_trusted: ", 0), 0u) << errors[4].text();
    EXPECT_EQ(dump(c), dump(defaults()));
    EXPECT_TRUE(c.threads());
    EXPECT_FALSE(c.expire.value);
    ASSERT_EQ(c.listen.value.size(), 1u);
    EXPECT_EQ(c.listen.value[0].port, 110);
    EXPECT_TRUE(c.proxy_trusted.value.empty());
}

// uidl_compat (issue 22): the old server, and for popa3d the switch time,
// parsed when loaded; a bad value is refused and leaves the default.
TEST(Config, UidlCompatAndItsSwitchTime) {
    const Config d = defaults();
    EXPECT_EQ(d.uidl_compat, UidlCompat::none);
    EXPECT_FALSE(d.uidl_compat_until.value);
    Config c = defaults();
    EXPECT_TRUE(parse("uidl_compat = popa3d\nuidl_compat_until = 2026-12-01 08:30\n", c).empty());
    EXPECT_EQ(c.uidl_compat, UidlCompat::popa3d);
    EXPECT_EQ(c.uidl_compat_until.value, (pop3d::CivilTime{2026, 12, 1, 8, 30, 0}));
    EXPECT_NE(dump(c).find("\nuidl_compat_until = 2026-12-01 08:30\n"), std::string::npos);
    for (const char* v : {"dovecot", "uw", "none"}) {
        EXPECT_TRUE(parse(std::string("uidl_compat = ") + v + "\n", c).empty()) << v;
        EXPECT_EQ(name(c.uidl_compat), v);
    }
    Config bad = defaults();
    const auto errors = parse("uidl_compat = qpopper\nuidl_compat_until = tomorrow\nuidl_compat_until = 2026-02-30\n", bad);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_EQ(errors[0].text(), "test.conf:1: uidl_compat: must be none, popa3d, dovecot or uw");
    EXPECT_EQ(errors[1].text(),
              "test.conf:2: uidl_compat_until: must be empty or a local date and time: YYYY-MM-DD [HH:MM[:SS]]");
    EXPECT_EQ(errors[2].text(), errors[1].text().replace(10, 1, "3"));
    EXPECT_EQ(dump(bad), dump(defaults()));
}
