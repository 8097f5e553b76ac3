// One destination's queue, a lane per channel: each channel's deliveries leave in the order they were routed, and
// one that fails temporarily is retried (with backoff, or after the delay the network asked for) before the next
// one of its channel goes. Meanwhile the other channels go on. One thread calls the plugin, one call at a time.
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
#include <unordered_map>
#include <vector>

namespace relais {

struct RetryPolicy {
    uint32_t max_attempts = 10;
    std::chrono::milliseconds backoff{500};
    std::chrono::milliseconds max_backoff{300'000};
};

class DestinationQueue {
public:
    using DeliverFn = std::function<DeliveryOutcome(const DeliveryJob &)>;
    // Several deliveries at once, in order; answers the outcomes up to the first that is not delivered.
    using BatchFn = std::function<std::vector<DeliveryOutcome>(const std::vector<const DeliveryJob *> &)>;
    static constexpr size_t max_batch = 256;

    // With an outbox, each outcome is recorded there (delivered, attempted, dead); without one, nothing is kept.
    // With `batch`, a backlog of first attempts leaves in batches of up to max_batch (retries still go one by one).
    DestinationQueue(std::string instance, DeliverFn deliver, RetryPolicy policy, Metrics &metrics,
                     Outbox *outbox = nullptr, BatchFn batch = {});
    ~DestinationQueue();
    DestinationQueue(const DestinationQueue &) = delete;
    DestinationQueue &operator=(const DestinationQueue &) = delete;

    void push(DeliveryJob job);
    void start();
    // Delivers what is queued until the deadline, then stops. Returns how many deliveries were left undone.
    size_t stop(std::chrono::milliseconds drain_deadline);
    size_t depth() const;

private:
    using Clock = std::chrono::steady_clock;
    struct Queued {
        DeliveryJob job;
        uint64_t arrival; // pushes counted: the lane with the oldest front goes first
    };
    struct Lane {
        std::deque<Queued> jobs;      // references stay valid while others push at the back
        Clock::time_point retry_at{}; // its front failed: nothing of this channel goes before then
    };

    void run();
    // The lane whose front is the oldest among those not waiting for a retry; null when none is ready, with
    // `next_retry` set to when the first one will be.
    Lane *next_lane(Clock::time_point &next_retry);
    // The deliveries at the front of `lane` that may leave together: first attempts, no reply or edit (those look
    // up the id of an original that may be in the same batch). Empty when the front must go alone.
    std::vector<DeliveryJob *> next_batch(Lane &lane);
    // Applies one outcome to the lane's front delivery: done, dead letter, or a wait before its retry. Called locked.
    void settle(const std::string &channel, Lane &lane, const DeliveryOutcome &outcome);
    std::chrono::milliseconds delay_for(const DeliveryJob &job, const DeliveryOutcome &outcome) const;

    std::string instance_;
    DeliverFn deliver_;
    BatchFn batch_;
    RetryPolicy policy_;
    Metrics &metrics_;
    Outbox *outbox_;
    Metric &delivered_, &retried_, &dead_, &depth_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::unordered_map<std::string, Lane> lanes_; // by channel; a lane without deliveries is removed
    size_t size_ = 0;
    uint64_t arrivals_ = 0;
    bool stopping_ = false;
    Clock::time_point deadline_{};
    std::thread worker_;
};

} // namespace relais
