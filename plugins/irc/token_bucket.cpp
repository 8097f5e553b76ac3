// token_bucket.cpp — the flood-control arithmetic.
#include "token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace relais::irc {

TokenBucket::TokenBucket(double burst, double rate_per_second, Clock::time_point now)
    : burst_(std::max(1.0, burst)), rate_(rate_per_second > 0 ? rate_per_second : 1.0), tokens_(burst_), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
    if (now <= last_) return;
    double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
}

bool TokenBucket::try_take(Clock::time_point now) {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

TokenBucket::Clock::duration TokenBucket::wait(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 1.0) return Clock::duration::zero();
    double seconds = (1.0 - tokens_) / rate_;
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) +
           std::chrono::microseconds(1);
}

double TokenBucket::tokens(Clock::time_point now) {
    refill(now);
    return tokens_;
}

} // namespace relais::irc
