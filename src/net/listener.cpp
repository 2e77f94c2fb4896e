#include "net/listener.hpp"

#include "common/text.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace pop3d::net {

namespace {

UniqueFd bind_one(int family, const std::string& host, std::uint16_t port, std::string& error) {
    UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = text::errno_text(errno);
        return fd;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET6) {
        // v6 sockets never take v4 connections: "*" binds 0.0.0.0 separately.
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(port);
        ::inet_pton(AF_INET6, host.empty() ? "::" : host.c_str(), &sa->sin6_addr);
        len = sizeof *sa;
    } else {
        auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(port);
        ::inet_pton(AF_INET, host.empty() ? "0.0.0.0" : host.c_str(), &sa->sin_addr);
        len = sizeof *sa;
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
        error = text::errno_text(errno);
        fd.reset();
    }
    return fd;
}

}  // namespace

std::string local_name(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, serv, sizeof serv,
                      NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "?";
    return ss.ss_family == AF_INET6 ? "[" + std::string(host) + "]:" + serv : std::string(host) + ":" + serv;
}

std::vector<ListenSocket> bind_listeners(const std::vector<ListenAddress>& addresses, std::string& error) {
    std::vector<ListenSocket> out;
    for (const ListenAddress& a : addresses) {
        std::string why;
        if (a.family == AF_UNSPEC) {
            UniqueFd v6 = bind_one(AF_INET6, "", a.port, why);
            if (v6) out.push_back({std::move(v6), "", a.tls});
            else if (why != text::errno_text(EAFNOSUPPORT)) {
                error = "[::]:" + std::to_string(a.port) + ": " + why;
                return {};
            }
            UniqueFd v4 = bind_one(AF_INET, "", a.port, why);
            if (!v4) {
                error = "0.0.0.0:" + std::to_string(a.port) + ": " + why;
                return {};
            }
            out.push_back({std::move(v4), "", a.tls});
        } else {
            UniqueFd fd = bind_one(a.family, a.host, a.port, why);
            if (!fd) {
                error = a.text() + ": " + why;
                return {};
            }
            out.push_back({std::move(fd), "", a.tls});
        }
    }
    for (ListenSocket& s : out) s.name = local_name(s.fd.get()) + (s.tls ? "/tls" : "");
    return out;
}

ListenSocket adopt_listener(int fd, bool tls) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return {UniqueFd(fd), local_name(fd) + (tls ? "/tls" : ""), tls};
}

}  // namespace pop3d::net
