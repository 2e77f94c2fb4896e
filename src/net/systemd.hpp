// The two systemd interfaces pop3d uses, without libsystemd: socket
// activation (LISTEN_PID/LISTEN_FDS, fds from 3) and sd_notify (one datagram
// to $NOTIFY_SOCKET).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pop3d::net {

// The fds systemd passed to this process, or none, with their names
// (FileDescriptorName=; "pop3s" marks implicit TLS). Unsets LISTEN_PID,
// LISTEN_FDS and LISTEN_FDNAMES so children do not see them.
struct ActivatedFd {
    int fd;
    std::string name;
};
std::vector<ActivatedFd> take_activation_fds();

// True for a listening socket (Accept=no), false for a connection (Accept=yes).
bool is_listening_socket(int fd);

// Sends "READY=1", "STATUS=...", "STOPPING=1"... when $NOTIFY_SOCKET is set.
// A leading '@' means the abstract namespace.
void notify(std::string_view state);

}  // namespace pop3d::net
