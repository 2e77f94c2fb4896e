// Shutdown and reload requests. SIGTERM/SIGINT set the stop flag and make an
// eventfd readable; every transport polls that fd next to its socket, so all
// sessions (threads or the single -i process) wake up at once and end at
// their next command boundary. SIGHUP does the same with the reload flag for
// the daemon's accept loop.
#pragma once

namespace pop3d::net {

// Creates the eventfds and installs the handlers; ignores SIGPIPE.
void install_signal_handlers();

bool stop_requested() noexcept;
void request_stop() noexcept;  // async-signal-safe
int stop_fd() noexcept;        // readable once a stop was requested (-1 before install)

// In a forked child: fresh eventfds and flags, so that the child's stop does
// not wake the parent (and the parent's does not reach the child unasked).
void reset_after_fork();

// SIGHUP: true once per request.
bool take_reload_request() noexcept;
int reload_fd() noexcept;  // readable while a reload is pending

}  // namespace pop3d::net
