#include "tracker.hpp"

#include "measure.hpp"

#include <charconv>
#include <chrono>
#include <thread>

namespace relais::bench {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string message_text(unsigned sender, size_t seq) {
    // About the size of a chat line (80 bytes), plain ASCII so that no transport escapes it.
    std::string text = "rb s" + std::to_string(sender) + " m" + std::to_string(seq) + " ";
    text += "the quick brown fox jumps over the lazy dog, then naps in the sun";
    return text;
}

Tracker::Tracker(unsigned senders, size_t per_sender)
    : senders_(senders), per_sender_(per_sender), sent_ns_(new std::atomic<int64_t>[senders * per_sender]),
      received_ns_(senders * per_sender, 0), copies_(senders * per_sender, 0), highest_seq_(senders, -1) {
    for (size_t i = 0; i < expected(); ++i) sent_ns_[i].store(0, std::memory_order_relaxed);
}

void Tracker::sent(unsigned sender, size_t seq, int64_t at_ns) {
    sent_ns_[index(sender, seq)].store(at_ns, std::memory_order_release);
}

namespace {
bool read_number(std::string_view &s, char tag, uint64_t &out) {
    if (s.empty() || s.front() != tag) return false;
    auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), out);
    if (ec != std::errc()) return false;
    s.remove_prefix(static_cast<size_t>(end - s.data()));
    return true;
}
} // namespace

void Tracker::received(std::string_view text, int64_t at_ns) {
    auto at = text.find("rb s");
    uint64_t sender = 0, seq = 0;
    std::string_view rest = at == std::string_view::npos ? std::string_view() : text.substr(at + 3);
    bool ok = read_number(rest, 's', sender) && !rest.empty() && rest.front() == ' ' &&
              (rest.remove_prefix(1), read_number(rest, 'm', seq)) && sender < senders_ && seq < per_sender_;
    std::lock_guard lock(mutex_);
    if (!ok) {
        ++foreign_;
        return;
    }
    size_t i = index(static_cast<unsigned>(sender), seq);
    if (copies_[i]++ == 0) {
        received_ns_[i] = at_ns;
        arrivals_.fetch_add(1, std::memory_order_release);
    }
    auto &highest = highest_seq_[sender];
    if (static_cast<int64_t>(seq) < highest) ++out_of_order_;
    else highest = static_cast<int64_t>(seq);
}

bool Tracker::wait_all(double timeout_s) const {
    double deadline = wall_seconds() + timeout_s;
    while (arrivals() < expected()) {
        if (wall_seconds() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

RunFigures Tracker::figures() const {
    std::lock_guard lock(mutex_);
    RunFigures f;
    f.expected = expected();
    f.out_of_order = out_of_order_;
    f.foreign = foreign_;
    f.send_errors = send_errors_.load();
    std::vector<double> latencies;
    latencies.reserve(f.expected);
    int64_t first_sent = INT64_MAX, last_received = 0;
    for (size_t i = 0; i < f.expected; ++i) {
        int64_t s = sent_ns_[i].load(std::memory_order_acquire);
        if (s) first_sent = std::min(first_sent, s);
        if (!copies_[i]) {
            ++f.lost;
            continue;
        }
        ++f.received;
        f.duplicates += copies_[i] - 1;
        last_received = std::max(last_received, received_ns_[i]);
        latencies.push_back(static_cast<double>(received_ns_[i] - s) * 1e-6);
    }
    if (f.received && first_sent < last_received) {
        f.seconds = static_cast<double>(last_received - first_sent) * 1e-9;
        f.msg_per_s = static_cast<double>(f.received) / f.seconds;
    }
    f.p50_ms = percentile(latencies, 50);
    f.p90_ms = percentile(latencies, 90);
    f.p99_ms = percentile(latencies, 99);
    f.max_ms = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
    return f;
}

} // namespace relais::bench
