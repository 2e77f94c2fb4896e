#include "net/fd_transport.hpp"

#include "net/stop_flag.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace pop3d::net {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Waits for `events` on fd until deadline, waking up for a stop request.
// Returns 1 ready, 0 timeout, -1 error, -2 stop.
int wait_for(int fd, short events, steady_clock::time_point deadline) {
    for (;;) {
        if (stop_requested()) return -2;
        const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
        if (left.count() <= 0) return 0;
        pollfd p[2] = {{fd, events, 0}, {stop_fd(), POLLIN, 0}};
        const int rc = ::poll(p, stop_fd() >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
        if (rc < 0 && errno != EINTR) return -1;
        if (rc > 0 && p[0].revents != 0 && !stop_requested()) return 1;
    }
}

}  // namespace

FdTransport::FdTransport(int in_fd, int out_fd, milliseconds send_timeout)
    : in_(in_fd), out_(out_fd), send_timeout_(send_timeout) {
    ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
}

session::ReadResult FdTransport::read(char* buf, std::size_t len, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        const int w = wait_for(in_, POLLIN, deadline);
        if (w == 0) return {session::ReadStatus::timeout};
        if (w == -2) return {session::ReadStatus::stopped};
        if (w < 0) return {session::ReadStatus::error};
        const ssize_t n = ::read(in_, buf, len);
        if (n > 0) return {session::ReadStatus::data, static_cast<std::size_t>(n)};
        if (n == 0) return {session::ReadStatus::eof};
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return {errno == ECONNRESET ? session::ReadStatus::eof : session::ReadStatus::error};
    }
}

bool FdTransport::write(const char* data, std::size_t len) {
    const auto deadline = steady_clock::now() + send_timeout_;
    while (len > 0) {
        const ssize_t n = ::write(out_, data, len);
        if (n > 0) {
            data += n;
            len -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // A shutdown does not cut a reply short; only the timeout does.
            pollfd p{out_, POLLOUT, 0};
            const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
            if (left.count() <= 0) return false;
            const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
            if (rc < 0 && errno != EINTR) return false;
            continue;
        }
        return false;
    }
    return true;
}

std::string peer_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return {};
    char host[NI_MAXHOST];
    if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
        return {};
    std::string s = host;
    if (s.rfind("::ffff:", 0) == 0 && s.find('.') != std::string::npos) s.erase(0, 7);  // v4-mapped
    return s;
}

}  // namespace pop3d::net
