// poller.hpp — the source side: the watched streams (mentions, hashtags, accounts), each with a cursor in the
// host's kv store, caught up by polling and, optionally, fed live by the streaming API.
#pragma once

#include "api.hpp"
#include "config.hpp"
#include "sse.hpp"

#include <relais/plugin.hpp>

#include <boost/json/value.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace relais::mastodon {

enum class WatchKind { mentions, hashtag, account };

struct Watch {
    WatchKind kind;
    std::string name;       // the hashtag or the acct; empty for mentions
    std::string key;        // kv key of the cursor: "cursor:mentions", "cursor:tag:veille", "cursor:account:alice"
    std::string channel;    // of the messages emitted: "mentions", "#veille", "@alice"
    std::mutex mutex;       // one catch-up or stream event at a time, so the cursor only moves forward
    std::string account_id; // for an account: its id on the server, once looked up
    bool behind = false;    // the last catch-up failed: live events wait until a poll succeeds, so none is skipped
};

class Poller {
public:
    Poller(Host &host, const MastodonConfig &config, const Api &api);

    std::vector<std::unique_ptr<Watch>> &watches() { return watches_; }

    // Catches up every stream (skipped while the server asked to wait after a 429).
    void poll_all();
    // Catches up one stream: pages of newer items, oldest first, each emitted before the cursor moves past it.
    // Returns false when the server could not be read or the host did not take an item.
    bool poll(Watch &w);
    // One event of the streaming API for this stream (the user stream feeds the mentions).
    void on_event(Watch &w, const SseEvent &event);

    // After this returns nothing more is emitted (it waits for a catch-up in progress to end).
    void stop();

private:
    enum class Outcome { emitted, skipped, refused };
    Outcome handle_item(Watch &w, const boost::json::value &item);
    void handle_edit(Watch &w, const std::string &data);
    void handle_delete(Watch &w, const std::string &data);
    std::string page_path(const Watch &w, const std::string &since) const;
    bool resolve_account(Watch &w);
    std::string cursor(const Watch &w) const;
    void set_cursor(const Watch &w, const std::string &id);
    bool emit(const Message &m);
    void note_failure(const std::string &what, const net::ClientResponse &r);

    Host &host_;
    const MastodonConfig &config_;
    const Api &api_;
    std::vector<std::unique_ptr<Watch>> watches_;
    std::atomic<bool> stopped_{false};
    std::atomic<int64_t> paused_until_ms_{0}; // after a 429: no request before this
};

} // namespace relais::mastodon
