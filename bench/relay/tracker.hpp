// What was sent and what came back: loss, duplicates, order per sender and latency, for one measured run.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace relais::bench {

int64_t now_ns(); // steady clock

// The figures of one run (a relay or its baseline).
struct RunFigures {
    size_t expected = 0, received = 0, lost = 0, duplicates = 0, out_of_order = 0, send_errors = 0, foreign = 0;
    double seconds = 0, msg_per_s = 0;               // first send to last arrival
    double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
    bool clean() const { return received == expected && lost == 0 && duplicates == 0 && out_of_order == 0; }
};

// Message text: "rb s<sender> m<seq> " then padding. Each sender numbers its messages 0, 1, 2…
std::string message_text(unsigned sender, size_t seq);

class Tracker {
public:
    Tracker(unsigned senders, size_t per_sender);

    // Records when message (sender, seq) left (or, at a fixed rate, was due to leave).
    void sent(unsigned sender, size_t seq, int64_t at_ns);
    void send_failed() { send_errors_.fetch_add(1, std::memory_order_relaxed); }
    // Reads the first "rb s<sender> m<seq> " in a received text (a JSON body, an IRC line); others are ignored.
    void received(std::string_view text, int64_t at_ns);

    size_t arrivals() const { return arrivals_.load(std::memory_order_acquire); }
    size_t expected() const { return senders_ * per_sender_; }
    // Waits until every message arrived once or timeout_s passed; true when all arrived.
    bool wait_all(double timeout_s) const;
    RunFigures figures() const;

private:
    size_t index(unsigned sender, size_t seq) const { return sender * per_sender_ + seq; }

    unsigned senders_;
    size_t per_sender_;
    std::unique_ptr<std::atomic<int64_t>[]> sent_ns_;
    std::vector<int64_t> received_ns_;   // first arrival, 0 when none (under mutex_)
    std::vector<uint32_t> copies_;       // arrivals of each message (under mutex_)
    std::vector<int64_t> highest_seq_;   // per sender, -1 before the first (under mutex_)
    size_t out_of_order_ = 0, foreign_ = 0;
    mutable std::mutex mutex_;
    std::atomic<size_t> arrivals_{0}, send_errors_{0};
};

} // namespace relais::bench
