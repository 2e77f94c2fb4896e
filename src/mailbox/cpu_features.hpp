// Which x86 instructions the mailbox kernels may use, read once with CPUID.
// Elsewhere every answer is false and the portable code runs.
#pragma once

namespace pop3d::mailbox::cpu {

bool has_sha();     // SHA extensions with SSSE3 and SSE4.1 (sha256.cpp)
bool has_clmul();   // PCLMULQDQ with SSE4.1 (content_digest.cpp)
bool has_vclmul();  // AVX-512F with VPCLMULQDQ, four carry-less products at once

}  // namespace pop3d::mailbox::cpu
