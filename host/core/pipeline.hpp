// The path of a message through the host: ingest (ids, trace, level) → route (rules) → deliver (per-destination
// queues). Sources call accept(); everything after it is the host's job.
#pragma once

#include "core/metrics.hpp"
#include "deliver/outbox.hpp"
#include "deliver/destination_queue.hpp"
#include "route/router.hpp"

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

namespace relais {

class Pipeline {
public:
    // With an outbox, a message is accepted once its deliveries are stored; without one (tests, explain), they
    // go straight to the queues.
    Pipeline(RouteTable routes, Metrics &metrics, Outbox *outbox = nullptr);

    void add_destination(const std::string &instance, std::unique_ptr<DestinationQueue> queue);
    // Hands a stored delivery to its destination's queue (the outbox calls it after each commit).
    void dispatch(const std::string &destination, DeliveryJob job);

    // Ingest: takes a message a source emitted. RELAIS_OK once it is routed and queued for every destination.
    int accept(const std::string &source, Message &&message);
    // The same without waiting for the outbox's commit: `done` gets the result, on the outbox's writer thread
    // once stored, else at once on the caller's.
    using Accepted = std::function<void(int result)>;
    void accept_async(const std::string &source, Message &&message, Accepted done);
    // Several messages of one source, in order, stored in one commit: all or none.
    void accept_batch_async(const std::string &source, std::vector<Message> &&messages, Accepted done);

    // Fills in what the host owns (id, source, network, level, trace, times) and repairs bad UTF-8.
    void normalise(const std::string &source, Message &message) const;

    // From now on accept() answers RELAIS_E_STOPPING: sources keep what they have.
    void close_intake() { closing_ = true; }
    // Waits for every queue to empty or the deadline to pass; returns the deliveries left undone.
    size_t drain(std::chrono::milliseconds deadline);
    void start_delivery();

    const Router &router() const { return router_; }
    size_t queued() const;

private:
    // A message made ready to store: normalised, not an echo, routed. None when there is nothing to store (dropped
    // by a rule, no route, an echo); without an outbox, its deliveries are queued at once and none is returned.
    struct ToStore {
        std::string dedupe_key;
        std::vector<Outbox::Entry> entries;
    };
    std::optional<ToStore> route(const std::string &source, Message &message);
    Outbox::StoreDone answer_when_stored(const std::string &source, std::string what, Accepted done);
    std::string dedupe_key(const std::string &source, const Message &m) const;
    // Remembers what was sent where, so that the network showing it back is recognised as an echo.
    void remember_sent(const std::string &destination, const std::string &rendered);
    bool is_echo(const std::string &source, const std::string &text);

    Router router_;
    Metrics &metrics_;
    Outbox *outbox_;
    std::map<std::string, std::unique_ptr<DestinationQueue>> queues_;
    std::atomic<bool> closing_{false};
    std::mutex echo_mutex_;
    std::unordered_map<uint64_t, int64_t> recently_sent_;  // hash of destination + text → until (ms)
    std::deque<std::pair<int64_t, uint64_t>> sent_order_;    // the same, oldest first, to forget in order
    Metric &dropped_, &unrouted_;
    std::map<std::string, Metric *> received_; // by source, registered up front
    std::map<std::string, Metric *> refused_confidentiality_;
    Metric &loops_, &echoes_;
};

} // namespace relais
