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
        queue_.push_back(std::move(job));
        depth_.set(static_cast<double>(queue_.size()));
    }
    wake_.notify_one();
}

size_t DestinationQueue::depth() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

size_t DestinationQueue::stop(std::chrono::milliseconds drain_deadline) {
    {
        std::lock_guard lock(mutex_);
        if (!worker_.joinable()) return queue_.size();
        stopping_ = true;
        deadline_ = std::chrono::steady_clock::now() + drain_deadline;
    }
    wake_.notify_all();
    worker_.join();
    std::lock_guard lock(mutex_);
    return queue_.size();
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

std::vector<DeliveryJob *> DestinationQueue::next_batch() {
    std::vector<DeliveryJob *> batch;
    if (!batch_ || queue_.size() < 2) return batch;
    for (DeliveryJob &job : queue_) { // references into a deque stay valid while others push at the back
        if (batch.size() == max_batch || job.attempts != 0 || !job.message.reply_to.empty()) break;
        batch.push_back(&job);
    }
    if (batch.size() < 2) batch.clear();
    return batch;
}

void DestinationQueue::settle(DeliveryJob &job, const DeliveryOutcome &outcome, std::unique_lock<std::mutex> &lock) {
    if (outcome.status == RELAIS_DELIVERED) {
        delivered_.add();
        if (outbox_) outbox_->delivered(job, instance_, outcome.native_id);
        queue_.pop_front();
    } else if (outcome.status == RELAIS_FAILED || job.attempts >= policy_.max_attempts) {
        dead_.add();
        std::string reason = (outcome.status == RELAIS_FAILED ? "permanent failure: " : "gave up after " +
                              std::to_string(job.attempts) + " attempts: ") +
                             (outcome.error.empty() ? "no reason given" : outcome.error);
        spdlog::error("[{}] message {} is now a dead letter ({}); `relais deadletter list` shows it", instance_,
                      job.message.id, reason);
        if (outbox_) outbox_->dead(job, reason);
        queue_.pop_front();
    } else {
        retried_.add();
        job.last_error = outcome.error;
        if (outbox_) outbox_->attempted(job);
        auto delay = delay_for(job, outcome);
        spdlog::warn("[{}] delivery of message {} failed (attempt {}): {}; retrying in {} ms", instance_,
                     job.message.id, job.attempts, outcome.error.empty() ? "temporary failure" : outcome.error,
                     delay.count());
        auto until = std::chrono::steady_clock::now() + delay;
        wake_.wait_until(lock, until, [&] { return stopping_; });
        if (stopping_ && std::chrono::steady_clock::now() >= deadline_) return;
        if (stopping_ && std::chrono::steady_clock::now() < until) wake_.wait_until(lock, std::min(until, deadline_));
    }
}

void DestinationQueue::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() || (stopping_ && std::chrono::steady_clock::now() >= deadline_)) {
            if (stopping_) return;
            continue;
        }
        if (std::vector<DeliveryJob *> batch = next_batch(); !batch.empty()) {
            std::vector<const DeliveryJob *> jobs(batch.begin(), batch.end());
            for (DeliveryJob *job : batch) ++job->attempts;
            lock.unlock();
            std::vector<DeliveryOutcome> outcomes = batch_(jobs);
            if (outcomes.empty()) outcomes.push_back({RELAIS_RETRY, 0, {}, "the plugin answered no outcome"});
            lock.lock();
            // The batch is still at the front, in order: settle what was answered, offer the rest again.
            for (size_t i = outcomes.size(); i < batch.size(); ++i) --batch[i]->attempts;
            for (const DeliveryOutcome &outcome : outcomes) settle(queue_.front(), outcome, lock);
            depth_.set(static_cast<double>(queue_.size()));
            continue;
        }
        DeliveryJob &job = queue_.front(); // stays first until it is done: order is kept
        ++job.attempts;
        lock.unlock();
        DeliveryOutcome outcome = deliver_(job);
        lock.lock();
        settle(job, outcome, lock);
        depth_.set(static_cast<double>(queue_.size()));
    }
}

} // namespace relais
