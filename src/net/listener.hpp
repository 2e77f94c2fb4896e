// Listening sockets for the standalone daemon.
#pragma once

#include "common/unique_fd.hpp"
#include "net/listen_address.hpp"

#include <string>
#include <vector>

namespace pop3d::net {

struct ListenSocket {
    UniqueFd fd;
    std::string name;  // "127.0.0.1:110", "[::]:995/tls"
    bool tls = false;  // implicit TLS (pop3s)
};

// Binds every address ("*" becomes [::] with IPV6_V6ONLY plus 0.0.0.0; IPv6
// is skipped when the host has none). Sockets are non-blocking, close-on-exec,
// SO_REUSEADDR, listen(SOMAXCONN). On failure returns {} and sets error.
std::vector<ListenSocket> bind_listeners(const std::vector<ListenAddress>& addresses, std::string& error);

// Adopts an inherited listening socket (systemd): non-blocking, named.
ListenSocket adopt_listener(int fd, bool tls);

// The local address of a socket, as "addr:port".
std::string local_name(int fd);

}  // namespace pop3d::net
