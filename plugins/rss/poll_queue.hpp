// poll_queue.hpp — a few threads of the plugin's own that run feed polls, so a slow server never holds one of
// the host's timer threads (they are shared by every plugin and must not block for long).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace relais::rss {

class PollQueue {
public:
    PollQueue() = default;
    ~PollQueue() { stop(); }
    PollQueue(const PollQueue &) = delete;
    PollQueue &operator=(const PollQueue &) = delete;

    void start(size_t threads);
    // Queues a job; ignored once stopped.
    void push(std::function<void()> job);
    // Drops the jobs not started, waits for the running ones (a fetch ends within its timeout), joins.
    void stop();

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

} // namespace relais::rss
