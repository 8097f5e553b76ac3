// feed_poller.hpp — one watched feed: fetch it, emit each new item once (oldest first), back off on errors.
#pragma once

#include "config.hpp"
#include "feed_parser.hpp"
#include "seen_store.hpp"

#include <relais/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace relais::rss {

// Shared by an instance's pollers: once closed (by stop()), nothing more is emitted.
class EmitGate {
public:
    // The host's answer, or RELAIS_E_STOPPING once the gate is closed.
    int emit(Host &host, const Message &m);
    void close();
    bool closed() const;

private:
    mutable std::mutex mutex_;
    bool closed_ = false;
};

struct PollOptions {
    uint64_t timeout_ms = 30'000;
    std::string user_agent;
    bool skip_existing = false;
};

// Backoff after consecutive failures: the feed's interval doubled per failure, up to one hour (or the interval
// when that is longer), and never sooner than a Retry-After asked.
constexpr uint64_t max_backoff_ms = 3'600'000;

class FeedPoller {
public:
    // `seen` is shared by the instance's feeds: an article carried by two of them is emitted once.
    FeedPoller(Host &host, FeedConfig feed, PollOptions options, EmitGate &gate, SeenStore &seen);

    // On the host's timer thread, every interval: true when a poll should run now, false while a backoff runs
    // or the last poll has not finished. Cheap; never blocks on the network.
    bool begin_tick();
    // On a poll thread, after begin_tick() said yes: fetch, parse, emit what is new. Never throws.
    void poll();

    const FeedConfig &feed() const { return feed_; }

private:
    struct State {
        std::string etag, last_modified;
        bool fetched = false; // a fetch has been handled once (the first one may skip existing items)
    };

    void poll_once();
    void failed(const std::string &error, std::optional<std::chrono::milliseconds> retry_after);
    void succeeded();
    // Emits the items not seen yet; false when the host refused one (the rest waits for the next poll).
    bool emit_new(const Feed &feed, bool first_fetch);
    Message to_message(const FeedItem &item, const Feed &feed, int64_t fetched_at_ms) const;
    std::string seen_key(const std::string &item_id) const;
    // Records the item as relayed under its id in this feed and its cross-feed key. Caller holds seen_.mutex().
    void remember(const FeedItem &item, const std::string &fingerprint_key);
    void load_state();
    void save_state();

    Host &host_;
    FeedConfig feed_;
    PollOptions options_;
    EmitGate &gate_;
    SeenStore &seen_;
    std::string key_; // hash of the feed's URL, in every kv key of this feed

    // Touched only by the one poll running (begin_tick lets one at a time).
    State state_;
    bool state_loaded_ = false;

    std::mutex mutex_;         // guards what follows, shared with the timer thread
    bool busy_ = false;        // a poll is queued or running
    unsigned failures_ = 0;    // consecutive
    std::string last_error_;   // of the current run of failures: a repeat is logged at debug level only
    uint64_t skip_ticks_ = 0;  // ticks left to wait before the next try
};

} // namespace relais::rss
