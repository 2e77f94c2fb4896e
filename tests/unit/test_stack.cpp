// release_unused_stack: the pages a deep call touched below the caller's
// frame are given back (no longer resident); the caller's own are kept.
#include "common/stack.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <thread>

namespace {

constexpr std::size_t kDeep = 64 * 1024;

// Touches kDeep bytes of stack below the caller; returns an address near its bottom.
__attribute__((noinline)) std::uintptr_t touch_deep_stack() {
    volatile char big[kDeep];
    for (std::size_t i = 0; i < kDeep; i += 512) big[i] = 1;
    return reinterpret_cast<std::uintptr_t>(&big[0]);
}

// How many of the pages in [low, high) are resident.
std::size_t resident_pages(std::uintptr_t low, std::uintptr_t high) {
    const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    low &= ~(page - 1);
    high &= ~(page - 1);
    unsigned char vec[64] = {};
    const std::size_t n = (high - low) / page;
    if (n == 0 || n > sizeof vec) return 0;
    if (::mincore(reinterpret_cast<void*>(low), high - low, vec) != 0) return static_cast<std::size_t>(-1);
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) count += vec[i] & 1;
    return count;
}

}  // namespace

TEST(Stack, PagesBelowTheCallerAreGivenBack) {
    std::size_t before = 0, after = 0, kept = 0;
    std::thread([&] {
        volatile char here = 0;
        const auto sp = reinterpret_cast<std::uintptr_t>(&here);
        const std::uintptr_t bottom = touch_deep_stack();
        const std::uintptr_t low = bottom + 4096, high = sp - 16 * 1024;  // well below this frame
        before = resident_pages(low, high);
        pop3d::release_unused_stack(256);
        after = resident_pages(low, high);
        const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
        kept = resident_pages(sp & ~(page - 1), (sp & ~(page - 1)) + page);  // this frame's page
    }).join();
    EXPECT_GT(before, 0u);
    EXPECT_EQ(after, 0u);
    EXPECT_EQ(kept, 1u);
}
