// seen_store.cpp — a bounded set of keys over the host's key-value store (see seen_store.hpp for the layout).
#include "seen_store.hpp"

#include <charconv>

namespace relais::rss {
namespace {

constexpr const char *next_key = "seen-ring:next";

std::optional<uint64_t> number(const std::optional<std::string> &text) {
    if (!text) return std::nullopt;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
    return n;
}

std::string slot_key(uint64_t n, size_t capacity) { return "seen-ring:" + std::to_string(n % capacity); }

} // namespace

uint64_t SeenStore::next_number() {
    if (!next_) next_ = number(host_.kv_get(next_key)).value_or(0);
    return *next_;
}

bool SeenStore::seen(const std::string &key) {
    std::optional<std::string> value = host_.kv_get(key);
    if (!value) return false;
    const uint64_t next = next_number();
    std::optional<uint64_t> n = number(value);
    // A number from the future is a value written before the ring existed (a timestamp): take it in.
    if (!n || *n >= next || next - *n > capacity_ / 2) record(key);
    return true;
}

bool SeenStore::record(const std::string &key) {
    const uint64_t n = next_number();
    const std::string slot = slot_key(n, capacity_);
    // The slot's previous key is forgotten unless it was renewed since (then its number is newer).
    if (std::optional<std::string> previous = host_.kv_get(slot); previous && *previous != key) {
        std::optional<uint64_t> at = number(host_.kv_get(*previous));
        if (at && n >= capacity_ && *at == n - capacity_) host_.kv_delete(*previous);
    }
    bool ok = host_.kv_put(key, std::to_string(n));
    ok = host_.kv_put(slot, key) && ok;
    ok = host_.kv_put(next_key, std::to_string(n + 1)) && ok;
    next_ = n + 1;
    return ok;
}

} // namespace relais::rss
