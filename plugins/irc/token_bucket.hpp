// token_bucket.hpp — flood control: `burst` lines at once, then `rate` lines a second. It only says when the
// next line may go; the caller queues lines meanwhile, so nothing is ever dropped.
#pragma once

#include <chrono>

namespace relais::irc {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double burst, double rate_per_second, Clock::time_point now = Clock::now());

    // Takes one token if there is one.
    bool try_take(Clock::time_point now);
    // How long until a token is there (zero when one is there now).
    Clock::duration wait(Clock::time_point now);
    double tokens(Clock::time_point now);

private:
    void refill(Clock::time_point now);

    double burst_, rate_, tokens_;
    Clock::time_point last_;
};

} // namespace relais::irc
