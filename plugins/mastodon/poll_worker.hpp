// poll_worker.hpp — a thread of the plugin's own that runs the polls: the host's timer threads are shared by every
// plugin and must not wait on a slow server. The timer only asks for a poll.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace relais::mastodon {

class PollWorker {
public:
    explicit PollWorker(std::function<void()> job) : job_(std::move(job)) {}
    ~PollWorker() { stop(); }

    void start();
    // Asks for one more run; asks made while one runs come to a single run after it. Never blocks.
    void request();
    // Waits for the run in progress to end, then joins the thread. Idempotent.
    void stop();

private:
    void loop();

    std::function<void()> job_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool pending_ = false, stopping_ = false;
    std::thread thread_;
};

} // namespace relais::mastodon
