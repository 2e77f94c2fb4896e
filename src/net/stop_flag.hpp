// Set by SIGTERM/SIGINT; transports report `stopped` once it is set so that
// sessions end at their next command boundary.
#pragma once

namespace pop3d::net {

bool stop_requested() noexcept;
// Installs SIGTERM/SIGINT handlers and ignores SIGPIPE. The two signals stay
// blocked except inside poll_one(), so a signal can never slip in
// between checking the flag and going to sleep.
void install_signal_handlers();

// poll() for one fd that also wakes up for SIGTERM/SIGINT. Returns what
// ppoll returns (-1 with EINTR when a signal came).
int poll_one(int fd, short events, int timeout_ms);

}  // namespace pop3d::net
