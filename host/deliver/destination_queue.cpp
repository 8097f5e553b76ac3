#include "deliver/destination_queue.hpp"

#include <spdlog/spdlog.h>

#include <random>

namespace relais {

DestinationQueue::DestinationQueue(std::string instance, DeliverFn deliver, RetryPolicy policy, Metrics &metrics,
                                   Outbox *outbox, BatchFn batch)
    : instance_(std::move(instance)), deliver_(std::move(deliver)), batch_(std::move(batch)), policy_(policy),
      metrics_(metrics), outbox_(outbox),
      delivered_(metrics.counter("relais_deliveries_total", {{"destination", instance_}, {"result", "delivered"}},
                                 "Deliveries by destination and result")),
      retried_(metrics.counter("relais_deliveries_total", {{"destination", instance_}, {"result", "retried"}})),
      dead_(metrics.counter("relais_deliveries_total", {{"destination", instance_}, {"result", "dead_letter"}})),
      depth_(metrics.gauge("relais_outbox_depth", {{"destination", instance_}},
                           "Deliveries waiting for their destination")) {}

DestinationQueue::~DestinationQueue() { stop(std::chrono::milliseconds(0)); }

void DestinationQueue::start() { worker_ = std::thread([this] { run(); }); }

void DestinationQueue::push(DeliveryJob job) {
    {
        std::lock_guard lock(mutex_);
        Lane &lane = lanes_[job.channel];
        lane.jobs.push_back({std::move(job), arrivals_++});
        depth_.set(static_cast<double>(++size_));
    }
    wake_.notify_one();
}

size_t DestinationQueue::depth() const {
    std::lock_guard lock(mutex_);
    return size_;
}

size_t DestinationQueue::stop(std::chrono::milliseconds drain_deadline) {
    {
        std::lock_guard lock(mutex_);
        if (!worker_.joinable()) return size_;
        stopping_ = true;
        deadline_ = Clock::now() + drain_deadline;
    }
    wake_.notify_all();
    worker_.join();
    std::lock_guard lock(mutex_);
    return size_;
}

std::chrono::milliseconds DestinationQueue::delay_for(const DeliveryJob &job, const DeliveryOutcome &outcome) const {
    if (outcome.retry_after_ms) return std::chrono::milliseconds(outcome.retry_after_ms);
    // Exponential backoff with full jitter in [base/2, base], so many retrying destinations do not beat in step.
    auto base = policy_.backoff * (1LL << std::min<uint32_t>(job.attempts - 1, 20));
    if (base > policy_.max_backoff) base = policy_.max_backoff;
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<long long> jitter(base.count() / 2, std::max<long long>(base.count(), 1));
    return std::chrono::milliseconds(jitter(rng));
}

DestinationQueue::Lane *DestinationQueue::next_lane(Clock::time_point &next_retry) {
    const auto now = Clock::now();
    Lane *best = nullptr;
    next_retry = Clock::time_point::max();
    for (auto &[channel, lane] : lanes_) {
        if (lane.retry_at > now) {
            next_retry = std::min(next_retry, lane.retry_at);
        } else if (!best || lane.jobs.front().arrival < best->jobs.front().arrival) {
            best = &lane;
        }
    }
    return best;
}

std::vector<DeliveryJob *> DestinationQueue::next_batch(Lane &lane) {
    std::vector<DeliveryJob *> batch;
    if (!batch_ || lane.jobs.size() < 2) return batch;
    for (Queued &q : lane.jobs) {
        if (batch.size() == max_batch || q.job.attempts != 0 || !q.job.message.reply_to.empty()) break;
        batch.push_back(&q.job);
    }
    if (batch.size() < 2) batch.clear();
    return batch;
}

void DestinationQueue::settle(const std::string &channel, Lane &lane, const DeliveryOutcome &outcome) {
    DeliveryJob &job = lane.jobs.front().job;
    if (outcome.status == RELAIS_DELIVERED) {
        delivered_.add();
        if (outbox_) outbox_->delivered(job, instance_, outcome.native_id);
    } else if (outcome.status == RELAIS_FAILED || job.attempts >= policy_.max_attempts) {
        dead_.add();
        std::string reason = (outcome.status == RELAIS_FAILED ? "permanent failure: " : "gave up after " +
                              std::to_string(job.attempts) + " attempts: ") +
                             (outcome.error.empty() ? "no reason given" : outcome.error);
        spdlog::error("[{}] message {} is now a dead letter ({}); `relais deadletter list` shows it", instance_,
                      job.message.id, reason);
        if (outbox_) outbox_->dead(job, reason);
    } else {
        retried_.add();
        job.last_error = outcome.error;
        if (outbox_) outbox_->attempted(job);
        auto delay = delay_for(job, outcome);
        spdlog::warn("[{}] delivery of message {}{} failed (attempt {}): {}; retrying in {} ms{}", instance_,
                     job.message.id, channel.empty() ? "" : " to " + channel, job.attempts,
                     outcome.error.empty() ? "temporary failure" : outcome.error, delay.count(),
                     channel.empty() ? "" : "; the other channels go on");
        lane.retry_at = Clock::now() + delay;
        return;
    }
    lane.jobs.pop_front();
    lane.retry_at = {};
    depth_.set(static_cast<double>(--size_));
}

void DestinationQueue::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        if (stopping_ && (size_ == 0 || Clock::now() >= deadline_)) return;
        Clock::time_point next_retry;
        Lane *lane = next_lane(next_retry);
        if (!lane) { // nothing queued, or every channel waits for a retry: until then, a push, or the stop
            if (stopping_) next_retry = std::min(next_retry, deadline_);
            if (next_retry == Clock::time_point::max()) wake_.wait(lock);
            else wake_.wait_until(lock, next_retry);
            continue;
        }
        const std::string channel = lane->jobs.front().job.channel;
        if (std::vector<DeliveryJob *> batch = next_batch(*lane); !batch.empty()) {
            std::vector<const DeliveryJob *> jobs(batch.begin(), batch.end());
            for (DeliveryJob *job : batch) ++job->attempts;
            lock.unlock();
            std::vector<DeliveryOutcome> outcomes = batch_(jobs);
            if (outcomes.empty()) outcomes.push_back({RELAIS_RETRY, 0, {}, "the plugin answered no outcome"});
            lock.lock();
            // The batch is still at the front of its lane, in order: settle what was answered, offer the rest again.
            for (size_t i = outcomes.size(); i < batch.size(); ++i) --batch[i]->attempts;
            for (const DeliveryOutcome &outcome : outcomes) {
                settle(channel, *lane, outcome);
                if (outcome.status != RELAIS_DELIVERED) break; // the last one answered
            }
        } else {
            DeliveryJob &job = lane->jobs.front().job; // stays first in its lane until it is done: order is kept
            ++job.attempts;
            lock.unlock();
            DeliveryOutcome outcome = deliver_(job);
            lock.lock();
            settle(channel, *lane, outcome);
        }
        if (lane->jobs.empty()) lanes_.erase(channel);
    }
}

} // namespace relais
