// The standalone daemon: the accept loop over the listening sockets, one
// thread (or one forked process) per connection, the limits, SIGHUP reload
// and the SIGTERM shutdown. Knows sockets and processes; the POP3 part is
// serve_connection().
#pragma once

#include "config/config.hpp"
#include "net/listener.hpp"
#include "tls/tls.hpp"

#include <memory>

#include <string>
#include <vector>

namespace pop3d::app {

// Where the configuration comes from, for SIGHUP.
struct ConfigSource {
    std::string file;
    bool file_required = false;
    std::vector<std::string> overrides;
    config::LoadResult load() const { return config::load(file, file_required, overrides); }
};

// Runs until SIGTERM/SIGINT, then stops accepting, lets sessions end at their
// next command boundary for up to shutdown_grace seconds, and returns the
// exit status.
int run_daemon(std::vector<net::ListenSocket> listeners, const ConfigSource& source, config::Config initial,
               std::shared_ptr<tls::Context> tls);

}  // namespace pop3d::app
