// Time source behind an interface so session tests run without real sleeps.
#pragma once

#include <chrono>
#include <thread>

namespace pop3d {

class Clock {
public:
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;
    virtual ~Clock() = default;
    virtual time_point now() = 0;
    virtual void sleep_until(time_point t) = 0;
};

class SystemClock final : public Clock {
public:
    time_point now() override { return std::chrono::steady_clock::now(); }
    void sleep_until(time_point t) override { std::this_thread::sleep_until(t); }
};

}  // namespace pop3d
