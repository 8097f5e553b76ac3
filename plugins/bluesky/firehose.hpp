// firehose.hpp — a WebSocket client for com.atproto.sync.subscribeRepos that reconnects with backoff and resumes
// from the cursor it is given. Boost.Beast stays inside firehose.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bluesky {

class Firehose {
public:
    struct Options {
        std::string url; // ws:// or wss:// …/xrpc/com.atproto.sync.subscribeRepos
        std::chrono::milliseconds reconnect_min{1'000}, reconnect_max{60'000};
        std::chrono::milliseconds connect_timeout{15'000};
        std::chrono::milliseconds idle_timeout{60'000}; // pings after half of it; gives up after all of it
        std::string ca_file;
        size_t max_frame_bytes = 8 << 20;
    };
    struct Callbacks {
        std::function<std::optional<int64_t>()> cursor; // asked at each (re)connection
        // Each binary frame, on the firehose's thread. false: close, wait, and reconnect from cursor().
        std::function<bool(std::string_view)> frame;
        std::function<void(const std::string &)> connected;    // the URL
        std::function<void(const std::string &)> disconnected; // why, and when it tries again
    };

    Firehose(Options options, Callbacks callbacks);
    ~Firehose(); // stops
    Firehose(const Firehose &) = delete;
    Firehose &operator=(const Firehose &) = delete;

    void start();
    void stop(); // returns once the thread has ended; no callback runs afterwards

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace bluesky
