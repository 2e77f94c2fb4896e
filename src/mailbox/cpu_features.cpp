#include "mailbox/cpu_features.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace pop3d::mailbox::cpu {

#if defined(__x86_64__)
namespace {

bool leaf1_ecx(unsigned bits) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bits) == bits;
}

}  // namespace

bool has_sha() {
    unsigned a, b, c, d;
    return leaf1_ecx(bit_SSSE3 | bit_SSE4_1) && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}

bool has_clmul() { return leaf1_ecx(bit_PCLMUL | bit_SSE4_1); }

bool has_vclmul() {
    return has_clmul() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
}
#else
bool has_sha() { return false; }
bool has_clmul() { return false; }
bool has_vclmul() { return false; }
#endif

}  // namespace pop3d::mailbox::cpu
