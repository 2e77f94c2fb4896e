#include "net/listen_address.hpp"

#include "common/text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace pop3d::net {

std::string ListenAddress::text() const {
    const std::string port_text = ":" + std::to_string(port) + (tls ? "/tls" : "");
    if (family == AF_UNSPEC) return "*" + port_text;
    if (family == AF_INET6) return "[" + host + "]" + port_text;
    return host + port_text;
}

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* error) {
    const std::string_view original = text;
    auto fail = [&](const std::string& why) -> std::optional<ListenAddress> {
        if (error) *error = "'" + text::escape_for_log(original, 64) + "': " + why;
        return std::nullopt;
    };
    ListenAddress a;
    if (text.size() > 4 && text.substr(text.size() - 4) == "/tls") {
        a.tls = true;
        text.remove_suffix(4);
    }
    std::string_view host = text;
    std::string_view port;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return fail("missing ']'");
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail("expected ':PORT' after ']'");
            port = rest.substr(1);
            has_port = true;
        }
        a.family = AF_INET6;
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon != std::string_view::npos) {
            if (text.find(':') != colon) return fail("write IPv6 addresses in brackets: [::1]:110");
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            has_port = true;
        }
        a.family = (host.empty() || host == "*") ? AF_UNSPEC : AF_INET;
    }
    if (has_port) {
        const auto p = text::parse_u64(port);
        if (!p || *p == 0 || *p > 65535) return fail("port must be 1-65535");
        a.port = static_cast<std::uint16_t>(*p);
    }
    if (a.family != AF_UNSPEC) {
        a.host.assign(host);
        unsigned char buf[sizeof(in6_addr)];
        if (::inet_pton(a.family, a.host.c_str(), buf) != 1)
            return fail(a.family == AF_INET6 ? "not a numeric IPv6 address" : "not a numeric IPv4 address");
    }
    return a;
}

std::optional<std::vector<ListenAddress>> parse_listen_list(std::string_view text, std::string* error) {
    std::vector<ListenAddress> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != ',' && text[j] != '\t') ++j;
        if (j > i) {
            auto a = parse_listen_address(text.substr(i, j - i), error);
            if (!a) return std::nullopt;
            out.push_back(*a);
        }
        i = j;
    }
    if (out.empty()) {
        if (error) *error = "no listen address";
        return std::nullopt;
    }
    return out;
}

}  // namespace pop3d::net
