#include "core/ulid.hpp"

#include <chrono>
#include <mutex>
#include <random>

namespace relais {

std::string new_ulid() {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    static uint64_t last_ms = 0;
    static uint16_t rand_hi = 0; // 80 random bits as 16 + 64
    static uint64_t rand_lo = 0;
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
    uint64_t hi_part, lo_part;
    uint16_t r_hi;
    {
        std::lock_guard lock(mutex);
        if (ms <= last_ms) {
            ms = last_ms; // same (or earlier) millisecond: increment the random part to stay monotonic
            if (++rand_lo == 0) ++rand_hi;
        } else {
            last_ms = ms;
            rand_lo = rng();
            rand_hi = static_cast<uint16_t>(rng() & 0x7fff); // headroom for increments
        }
        lo_part = rand_lo;
        r_hi = rand_hi;
    }
    hi_part = (ms << 16) | r_hi; // 48 bits time + 16 bits random = 64 bits; lo_part = 64 random bits
    // 128 bits → 26 base32 chars (the first char carries only 3 bits).
    char out[26];
    for (int i = 25; i >= 0; --i) {
        out[i] = alphabet[lo_part & 31];
        lo_part = (lo_part >> 5) | ((hi_part & 31) << 59);
        hi_part >>= 5;
    }
    return std::string(out, 26);
}

} // namespace relais
