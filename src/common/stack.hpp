// Giving back stack pages a deep call chain (a PAM module) has touched, so
// that a long-lived session thread keeps only what it really uses.
#pragma once

namespace pop3d {

// Discards the calling thread's stack pages below the current frame (minus
// a margin). Harmless to call anywhere; does nothing if it cannot tell.
void release_unused_stack() noexcept;

}  // namespace pop3d
