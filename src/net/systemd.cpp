#include "net/systemd.hpp"

#include "common/text.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace pop3d::net {

std::vector<ActivatedFd> take_activation_fds() {
    std::vector<ActivatedFd> fds;
    const char* pid = std::getenv("LISTEN_PID");
    const char* count = std::getenv("LISTEN_FDS");
    const char* names = std::getenv("LISTEN_FDNAMES");
    if (pid && count) {
        const auto p = text::parse_u64(pid);
        const auto n = text::parse_u64(count);
        if (p && n && *p == static_cast<std::uint64_t>(::getpid()) && *n > 0 && *n < 1024) {
            std::string_view rest = names ? names : "";
            for (int fd = 3; fd < 3 + static_cast<int>(*n); ++fd) {
                const std::size_t colon = rest.find(':');
                fds.push_back({fd, std::string(rest.substr(0, colon))});
                rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
            }
        }
    }
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    for (const ActivatedFd& a : fds) ::fcntl(a.fd, F_SETFD, FD_CLOEXEC);
    return fds;
}

bool is_listening_socket(int fd) {
    int accepting = 0;
    socklen_t len = sizeof accepting;
    return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting != 0;
}

void notify(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    const std::size_t path_len = std::strlen(path);
    sockaddr_un sa{};
    if (path_len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@')) return;
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path, path_len);
    if (path[0] == '@') sa.sun_path[0] = '\0';  // abstract namespace: exact length, no trailing NUL
    const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_len);
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa), len);
    (void)n;
    ::close(fd);
}

}  // namespace pop3d::net
