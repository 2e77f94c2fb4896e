#include "mailbox/test_hooks.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace pop3d::mailbox {

namespace {
std::atomic<void (*)(const char*)> step_hook{nullptr};
}  // namespace

void set_test_step_hook(void (*hook)(const char* step)) noexcept { step_hook.store(hook); }

void test_pause(const char* step) noexcept {
    if (auto* hook = step_hook.load()) hook(step);
    static const long ms = [] {
        const char* v = std::getenv("POP3D_TEST_EXPUNGE_PAUSE_MS");
        return v ? std::strtol(v, nullptr, 10) : 0L;
    }();
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace pop3d::mailbox
