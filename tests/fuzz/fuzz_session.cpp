// libFuzzer target: the session engine fed arbitrary client bytes, over an
// in-memory maildrop and a table-driven authenticator (no sockets, no PAM).
// The first input byte picks the settings and how the bytes are chunked.
#include "../unit/fakes.hpp"
#include "session/session.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace pop3d;
using namespace pop3d::testing;

namespace {

const std::vector<std::string> kMessages = {
    "Subject: one\r\n\r\nfirst\r\n",
    "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n",
    "From: x\r\n\r\nline\r\nline\r\nline\r\n",
    "",
};


}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);

    // Pieces of 1..16 bytes, or all at once: line handling must not depend on it.
    std::vector<std::string> pieces;
    const std::size_t piece = (flags & 0x0f) == 0 ? input.size() + 1 : (flags & 0x0f);
    for (std::size_t at = 0; at < input.size(); at += piece) pieces.push_back(input.substr(at, piece));

    ScriptTransport transport(pieces, (flags & 0x10) ? session::ReadStatus::timeout : session::ReadStatus::eof);
    transport.tls_capable = flags & 0x20;
    FakeAuthenticator auth;
    auth.passwords = {{"alice", "secret"}, {"bob", "b b"}};
    FakeOpener opener(kMessages);
    if (flags & 0x40) {
        opener.tweak = [](MemoryMaildrop& md) {
            md.fail_check = true;
            md.expunge_result = {mailbox::Status::temp_fail, "fuzz"};
        };
    }
    FakeClock clock;
    session::SessionSettings settings;
    settings.plaintext_auth = !(flags & 0x80) || transport.tls_capable;
    settings.login_delay = flags & 0x80 ? 60 : 0;
    if (flags & 0x40) settings.expire_days = 0;
    session::Session s(transport, auth, opener, clock, settings, auth::ClientInfo{"192.0.2.7"});
    s.run();

    // Every reply line ends in CRLF, and the output starts with the greeting.
    const std::string& out = transport.output;
    FUZZ_REQUIRE(out.rfind("+OK", 0) == 0);
    std::size_t start = 0;
    while (start < out.size()) {
        if (out.compare(start, 5, "<TLS>") == 0) {  // the fake's handshake marker
            start += 5;
            continue;
        }
        const std::size_t lf = out.find('\n', start);
        FUZZ_REQUIRE(lf != std::string::npos && lf > start && out[lf - 1] == '\r');
        start = lf + 1;
    }
    return 0;
}
