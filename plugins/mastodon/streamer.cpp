// streamer.cpp — the streaming API's reconnection loop around SseClient.
#include "streamer.hpp"

#include "api.hpp"
#include "entities.hpp"
#include "sse.hpp"

#include <algorithm>

namespace relais::mastodon {

void Streamer::start() {
    const std::string base = (config_.streaming_url.empty() ? config_.server : config_.streaming_url);
    for (auto &w : poller_.watches()) {
        std::string url;
        if (w->kind == WatchKind::mentions)
            url = base + "/api/v1/streaming/user";
        else if (w->kind == WatchKind::hashtag)
            url = base + "/api/v1/streaming/hashtag?tag=" + url_encode(w->name);
        else
            continue;
        auto live = std::make_unique<Live>();
        live->watch = w.get();
        live->url = std::move(url);
        lives_.push_back(std::move(live));
    }
    for (auto &live : lives_)
        live->thread = std::thread([this, l = live.get()] { run(*l); });
}

void Streamer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto &live : lives_)
        live->client.stop();
    for (auto &live : lives_)
        if (live->thread.joinable()) live->thread.join();
    lives_.clear();
}

bool Streamer::wait(uint64_t ms) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

void Streamer::run(Live &live) {
    SseRequest request;
    request.url = live.url;
    request.headers.emplace_back("Authorization", "Bearer " + config_.token);
    request.verify_tls = config_.verify_tls;
    request.ca_file = config_.ca_file;
    request.connect_timeout = std::chrono::milliseconds(config_.timeout_ms);
    const std::string where = live.watch->channel + " stream (" + live.url.substr(0, live.url.find('?')) + ")";
    uint64_t delay = config_.reconnect_ms;
    while (!live.client.stopping()) {
        SseParser parser;
        bool opened = false;
        SseEnd end = live.client.run(
            request,
            [&] {
                opened = true;
                delay = config_.reconnect_ms;
                host_.gauge_set("streams_connected", ++connected_);
                host_.log_info("connected to the " + where + "; catching up by polling");
                poller_.poll(*live.watch); // what was said while disconnected, before any live event
            },
            [&](std::string_view bytes) {
                for (const SseEvent &event : parser.feed(bytes))
                    poller_.on_event(*live.watch, event);
            });
        if (opened) host_.gauge_set("streams_connected", --connected_);
        if (live.client.stopping()) break;
        host_.counter_add("stream_disconnects");
        std::string why = end.error.empty() ? "the stream ended" : end.error;
        if (end.status != 0 && !end.body.empty()) why += ": " + error_message(end.body);
        if (end.status == 401 || end.status == 403) why += " (check `token` and its read scope)";
        host_.log_warn("the " + where + " " + (opened ? "closed" : "could not open") + ": " + why +
                       "; reconnecting in " +
                       (delay < 1000 ? std::to_string(delay) + "ms" : std::to_string(delay / 1000) + "s") +
                       " (polling meanwhile)");
        if (!wait(delay)) break;
        delay = std::min<uint64_t>(delay * 2, std::max<uint64_t>(config_.reconnect_ms, 300'000));
    }
}

} // namespace relais::mastodon
