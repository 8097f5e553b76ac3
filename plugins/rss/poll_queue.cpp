// poll_queue.cpp — the plugin's poll threads.
#include "poll_queue.hpp"

namespace relais::rss {

void PollQueue::start(size_t threads) {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

void PollQueue::push(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || threads_.empty()) return;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void PollQueue::stop() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        jobs_.clear();
        threads.swap(threads_);
    }
    wake_.notify_all();
    for (auto &t : threads) t.join();
}

void PollQueue::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job(); // jobs catch their own exceptions
    }
}

} // namespace relais::rss
