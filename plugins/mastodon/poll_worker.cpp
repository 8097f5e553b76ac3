// poll_worker.cpp — one thread, one flag: requested runs coalesce, stop() ends the loop.
#include "poll_worker.hpp"

namespace relais::mastodon {

void PollWorker::start() {
    thread_ = std::thread([this] { loop(); });
}

void PollWorker::request() {
    {
        std::lock_guard lock(mutex_);
        pending_ = true;
    }
    wake_.notify_one();
}

void PollWorker::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void PollWorker::loop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return pending_ || stopping_; });
            if (stopping_) return;
            pending_ = false;
        }
        job_();
    }
}

} // namespace relais::mastodon
