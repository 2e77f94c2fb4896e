// Giving back stack pages a deep call chain (a PAM module, the work of a
// command) has touched, so that a long-lived session thread keeps only what
// it really uses while it waits.
#pragma once

#include <cstddef>

namespace pop3d {

// Discards the calling thread's stack pages below the current frame, all
// but `margin` bytes (this frame's callees, signal handlers: they just
// touch fresh zero pages again). Harmless to call anywhere; does nothing
// if it cannot tell where the stack is. The guard page is never touched.
void release_unused_stack(std::size_t margin = 16 * 1024) noexcept;

}  // namespace pop3d
