#include "net/proxy_reader.hpp"

#include "common/text.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace pop3d::net {

ProxyReader::Step ProxyReader::fail(std::string why) {
    error_ = std::move(why);
    return Step::failed;
}

ProxyReader::Step ProxyReader::step(int fd) {
    for (;;) {
        // Look first, then take only the bytes known to be header.
        char peeked[kMaxProxyHeader];
        const ssize_t n = ::recv(fd, peeked, sizeof peeked - buffer_.size(), MSG_PEEK | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Step::more;
            if (errno != ECONNRESET) return fail("reading the PROXY header: " + text::errno_text(errno));
        }
        if (n <= 0) {  // closed or reset
            closed_early_ = buffer_.empty();
            return fail(buffer_.empty() ? "closed before the PROXY header" : "closed within the PROXY header");
        }
        std::string seen = buffer_;
        seen.append(peeked, static_cast<std::size_t>(n));
        const ProxyParse parse = parse_proxy_header(seen);
        if (parse.state == ProxyParse::State::malformed) return fail(parse.error);
        const std::size_t take = parse.length - buffer_.size();
        if (take > 0) {
            const ssize_t got = ::recv(fd, peeked, take, MSG_DONTWAIT);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return fail("reading the PROXY header: " + text::errno_text(got < 0 ? errno : EIO));
            buffer_.append(peeked, static_cast<std::size_t>(got));
            if (static_cast<std::size_t>(got) < take) continue;  // another reader cannot exist; be safe anyway
        }
        if (parse.state == ProxyParse::State::complete) {
            header_ = parse.header;
            return Step::done;
        }
        if (buffer_.size() >= kMaxProxyHeader) return fail("PROXY header too long");
        return Step::more;
    }
}

bool read_proxy_header(int fd, std::chrono::milliseconds timeout, ProxyHeader& header, std::string* error,
                       bool* closed_early) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    ProxyReader reader;
    for (;;) {
        switch (reader.step(fd)) {
        case ProxyReader::Step::done: header = reader.header(); return true;
        case ProxyReader::Step::failed:
            *error = reader.error();
            if (closed_early) *closed_early = reader.closed_before_header();
            return false;
        case ProxyReader::Step::more: break;
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            *error = "no complete PROXY header within " + std::to_string(timeout.count() / 1000) + " s";
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            *error = "waiting for the PROXY header: " + text::errno_text(errno);
            return false;
        }
    }
}

}  // namespace pop3d::net
