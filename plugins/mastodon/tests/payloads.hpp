// payloads.hpp — the recorded API payloads in tests/payloads, read by the unit tests.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace mastodon_test {

inline std::string payload(const std::string &name) {
    std::ifstream in(std::string(MASTODON_PAYLOADS) + "/" + name, std::ios::binary);
    if (!in) throw std::runtime_error("missing test payload " + name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace mastodon_test
