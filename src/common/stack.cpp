#include "common/stack.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace pop3d {

namespace {

// The lowest address of the calling thread's stack, 0 when unknown. Asked
// once per thread: for the main thread glibc reads /proc/self/maps.
std::uintptr_t stack_low_end() noexcept {
    thread_local std::uintptr_t low = [] {
        pthread_attr_t attr;
        if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return std::uintptr_t{0};
        void* base = nullptr;
        std::size_t size = 0;
        const bool ok = ::pthread_attr_getstack(&attr, &base, &size) == 0;
        ::pthread_attr_destroy(&attr);
        return ok ? reinterpret_cast<std::uintptr_t>(base) : std::uintptr_t{0};
    }();
    return low;
}

}  // namespace

void release_unused_stack(std::size_t margin) noexcept {
    const std::uintptr_t base = stack_low_end();
    if (base == 0) return;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    volatile char here = 0;  // an address in the current frame
    const auto sp = reinterpret_cast<std::uintptr_t>(&here);
    const auto low = (base + page - 1) & ~(page - 1);
    if (sp < low + margin + page) return;
    const std::uintptr_t high = (sp - margin) & ~(page - 1);
    if (high > low) ::madvise(reinterpret_cast<void*>(low), high - low, MADV_DONTNEED);
}

}  // namespace pop3d
