// The flood-control bucket: a burst at once, then the rate; waits are exact; it never refuses for good.
#include "token_bucket.hpp"

#include <catch2/catch.hpp>

using relais::irc::TokenBucket;
using namespace std::chrono_literals;

TEST_CASE("a burst goes at once, then one line per 1/rate seconds") {
    auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket bucket(5, 2, t0);
    for (int i = 0; i < 5; ++i) CHECK(bucket.try_take(t0));
    CHECK_FALSE(bucket.try_take(t0));
    CHECK(bucket.wait(t0) > 499ms);
    CHECK(bucket.wait(t0) < 501ms);
    CHECK_FALSE(bucket.try_take(t0 + 499ms));
    CHECK(bucket.try_take(t0 + 500ms));
    CHECK_FALSE(bucket.try_take(t0 + 500ms));
    CHECK(bucket.try_take(t0 + 1000ms));
}

TEST_CASE("tokens refill up to the burst, not beyond") {
    auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket bucket(3, 10, t0);
    for (int i = 0; i < 3; ++i) REQUIRE(bucket.try_take(t0));
    CHECK(bucket.tokens(t0 + 1h) == Approx(3));
    int taken = 0;
    while (bucket.try_take(t0 + 1h)) ++taken;
    CHECK(taken == 3);
    CHECK(bucket.wait(t0 + 1h) <= 100ms + 1ms);
}

TEST_CASE("over a long stream the rate holds: 1000 lines at 200/s after a burst of 20 take 4.9 s") {
    auto t = TokenBucket::Clock::time_point{} + 1h;
    auto start = t;
    TokenBucket bucket(20, 200, t);
    for (int sent = 0; sent < 1000;) {
        if (bucket.try_take(t)) ++sent;
        else t += bucket.wait(t);
    }
    double seconds = std::chrono::duration<double>(t - start).count();
    CHECK(seconds == Approx(4.9).margin(0.01));
}

TEST_CASE("nonsense settings are made safe") {
    auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket bucket(0, 0, t0);
    CHECK(bucket.try_take(t0));
    CHECK(bucket.wait(t0) <= 1001ms);
}
