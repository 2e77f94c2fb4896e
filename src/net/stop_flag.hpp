// Shutdown and reload requests. SIGTERM/SIGINT set the stop flag and make an
// eventfd readable; every transport polls that fd next to its socket, so all
// sessions (threads or the single -i process) wake up at once and end at
// their next command boundary. SIGHUP does the same with the reload flag for
// the daemon's accept loop.
//
// pop3d kick wakes one session with kWakeSignal, sent to its thread after
// its kick flag is set. The signal is held blocked in every thread
// (install_signal_handlers blocks it before any session thread or process
// exists, and they inherit that) and let in only inside a transport's
// wait (ppoll): one that comes between the check of the flag and the wait
// stays pending and cuts the wait short, and no other call (PAM, a lock
// wait) ever sees EINTR from it.
#pragma once

#include <signal.h>

namespace pop3d::net {

// SIGURG: ignored by default, so one that reaches a process that is no
// longer a session (pid reused) does nothing. Its handler does nothing.
inline constexpr int kWakeSignal = SIGURG;

// Creates the eventfds and installs the handlers; ignores SIGPIPE; blocks
// kWakeSignal in the calling thread.
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
