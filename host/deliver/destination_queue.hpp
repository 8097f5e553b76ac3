// One destination's queue: deliveries leave in the order they were routed, one at a time, and a delivery that
// fails temporarily is retried (with backoff, or after the delay the network asked for) before the next one goes.
#pragma once

#include "core/metrics.hpp"
#include "deliver/delivery.hpp"
#include "deliver/outbox.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace relais {

struct RetryPolicy {
    uint32_t max_attempts = 10;
    std::chrono::milliseconds backoff{500};
    std::chrono::milliseconds max_backoff{300'000};
};

class DestinationQueue {
public:
    using DeliverFn = std::function<DeliveryOutcome(const DeliveryJob &)>;

    // With an outbox, each outcome is recorded there (delivered, attempted, dead); without one, nothing is kept.
    DestinationQueue(std::string instance, DeliverFn deliver, RetryPolicy policy, Metrics &metrics,
                     Outbox *outbox = nullptr);
    ~DestinationQueue();
    DestinationQueue(const DestinationQueue &) = delete;
    DestinationQueue &operator=(const DestinationQueue &) = delete;

    void push(DeliveryJob job);
    void start();
    // Delivers what is queued until the deadline, then stops. Returns how many deliveries were left undone.
    size_t stop(std::chrono::milliseconds drain_deadline);
    size_t depth() const;

private:
    void run();
    std::chrono::milliseconds delay_for(const DeliveryJob &job, const DeliveryOutcome &outcome) const;

    std::string instance_;
    DeliverFn deliver_;
    RetryPolicy policy_;
    Metrics &metrics_;
    Outbox *outbox_;
    Metric &delivered_, &retried_, &dead_, &depth_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<DeliveryJob> queue_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::thread worker_;
};

} // namespace relais
