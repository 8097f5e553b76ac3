// A small helper for tests that wait for something another thread does, with a bound and no polling sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace relais::test {

class Waiter {
public:
    // Runs `change` under the lock and wakes waiters.
    void update(const std::function<void()> &change) {
        {
            std::lock_guard lock(mutex_);
            change();
        }
        cv_.notify_all();
    }
    // True once `done` holds (checked under the lock), false after `timeout`.
    bool wait(const std::function<bool()> &done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, done);
    }
    std::mutex &mutex() { return mutex_; }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
};

} // namespace relais::test
