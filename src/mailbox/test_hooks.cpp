#include "mailbox/test_hooks.hpp"

#include <cstdlib>
#include <thread>

namespace pop3d::mailbox {

void test_pause(const char*) noexcept {
    static const long ms = [] {
        const char* v = std::getenv("POP3D_TEST_EXPUNGE_PAUSE_MS");
        return v ? std::strtol(v, nullptr, 10) : 0L;
    }();
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace pop3d::mailbox
