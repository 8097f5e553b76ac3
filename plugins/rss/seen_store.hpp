// seen_store.hpp — the items already relayed, in the instance's key-value store, bounded in size.
#pragma once

#include <relais/plugin.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace relais::rss {

// Default number of records kept (each item relayed takes two: its id in its feed and its cross-feed key).
constexpr size_t default_seen_capacity = 20'000;

// Records are numbered in a ring of `capacity` slots: recording one more forgets the oldest. A record that is
// looked up when it is older than half the ring is renewed, so an item that stays in a feed is never forgotten
// (and relayed again); only items gone from every feed age out.
//
// Store layout: "<key>" → its number; "seen-ring:<slot>" → the key recorded there; "seen-ring:next" → the next
// number. Keys from before the ring (a timestamp as value) are taken into it when next looked up.
class SeenStore {
public:
    SeenStore(Host &host, size_t capacity = default_seen_capacity) : host_(host), capacity_(capacity ? capacity : 1) {}

    // Held across check, emit and record, so an item that two feeds carry is emitted by one of them only.
    std::mutex &mutex() { return mutex_; }

    // Caller holds mutex(). True when `key` was recorded (and renews it if old).
    bool seen(const std::string &key);
    // Caller holds mutex(). False on a storage error.
    bool record(const std::string &key);

    size_t capacity() const { return capacity_; }

private:
    uint64_t next_number();

    Host &host_;
    const size_t capacity_;
    std::mutex mutex_;
    std::optional<uint64_t> next_; // cached "seen-ring:next"
};

} // namespace relais::rss
