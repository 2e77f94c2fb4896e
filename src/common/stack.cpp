#include "common/stack.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace pop3d {

void release_unused_stack() noexcept {
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return;
    void* base = nullptr;
    std::size_t size = 0;
    const bool ok = ::pthread_attr_getstack(&attr, &base, &size) == 0;
    ::pthread_attr_destroy(&attr);
    if (!ok || base == nullptr) return;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    volatile char here = 0;  // an address in the current frame
    const auto sp = reinterpret_cast<std::uintptr_t>(&here);
    const auto low = (reinterpret_cast<std::uintptr_t>(base) + page - 1) & ~(page - 1);
    constexpr std::uintptr_t kMargin = 16 * 1024;  // this frame, its callees, signal handlers
    if (sp < low + kMargin + page) return;
    const std::uintptr_t high = (sp - kMargin) & ~(page - 1);
    if (high > low) ::madvise(reinterpret_cast<void*>(low), high - low, MADV_DONTNEED);
}

}  // namespace pop3d
