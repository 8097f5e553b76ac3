// streamer.hpp — one thread per live stream (the user stream for mentions, one per hashtag): connect, catch up by
// polling, then read events until the stream breaks; reconnect with a growing delay.
#pragma once

#include "config.hpp"
#include "poller.hpp"
#include "sse_client.hpp"

#include <relais/plugin.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace relais::mastodon {

class Streamer {
public:
    Streamer(Host &host, const MastodonConfig &config, Poller &poller)
        : host_(host), config_(config), poller_(poller) {}
    ~Streamer() { stop(); }

    void start(); // a thread for each stream the API offers (accounts have none: they are polled only)
    void stop();  // ends every stream and joins the threads

private:
    struct Live {
        Watch *watch;
        std::string url;
        SseClient client;
        std::thread thread;
    };
    void run(Live &live);
    bool wait(uint64_t ms); // false when stopping

    Host &host_;
    const MastodonConfig &config_;
    Poller &poller_;
    std::vector<std::unique_ptr<Live>> lives_;
    std::atomic<int> connected_{0}; // streams open now, for the streams_connected gauge
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
};

} // namespace relais::mastodon
