// What the session asks before and after a login: a guess from the
// client's address, counted against the failed logins of that address (the
// delay rises with the count, and past a budget the address is refused)
// across every session and process; and a turn to check credentials, of
// which only so many run at once.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace pop3d::session {

class LoginThrottle {
public:
    struct Guess {
        bool allowed = true;  // false: the address spent its budget; PAM must not be asked
        unsigned before = 0;  // failures counted before this guess (the delay doubles with them)
    };
    virtual ~LoginThrottle() = default;
    // One atomic step: when the address (an IPv6 /64) has fewer than
    // `budget` failures in the current window (budget 0: no limit), counts
    // this guess as a failure and allows it. Counting before PAM answers is
    // what holds N parallel guesses to the budget. An address with no key
    // (empty, unknown) is allowed and not counted.
    virtual Guess reserve_guess(std::string_view address, unsigned budget) = 0;
    // The guess allowed by reserve_guess did not fail on its credentials
    // (success, PAM unavailable, no login slot): the count goes back down.
    virtual void return_guess(std::string_view address) = 0;
    // Waits at most max_wait for a turn to ask the authenticator; each
    // true is followed by one end_login(). False: the server is overloaded.
    virtual bool begin_login(std::chrono::milliseconds /*max_wait*/) { return true; }
    virtual void end_login() {}
};

// A guess reserved for one login attempt; returned when it goes out of
// scope unless kept (a failed credential check is the counted failure).
class ReservedGuess {
public:
    // throttle nullptr: no shared counts; allowed, nothing counted.
    ReservedGuess(LoginThrottle* throttle, std::string_view address, unsigned budget)
        : throttle_(throttle), address_(address) {
        if (throttle_) guess_ = throttle_->reserve_guess(address_, budget);
        if (!guess_.allowed) throttle_ = nullptr;  // nothing was counted
    }
    ~ReservedGuess() { give_back(); }
    ReservedGuess(const ReservedGuess&) = delete;
    ReservedGuess& operator=(const ReservedGuess&) = delete;

    bool allowed() const { return guess_.allowed; }
    unsigned before() const { return guess_.before; }
    void keep() { throttle_ = nullptr; }
    void give_back() {
        if (throttle_) throttle_->return_guess(address_);
        throttle_ = nullptr;
    }

private:
    LoginThrottle* throttle_;
    std::string address_;
    LoginThrottle::Guess guess_;
};

}  // namespace pop3d::session
