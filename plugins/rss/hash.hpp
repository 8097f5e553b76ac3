// hash.hpp — a stable 64-bit hash (FNV-1a) for ids and state keys: the same on every build and platform.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace relais::rss {

inline uint64_t fnv1a(std::string_view s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

// 16 lower-case hex digits.
inline std::string hash_hex(std::string_view s) {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(fnv1a(s)));
    return out;
}

} // namespace relais::rss
