// plugin.cpp — the rss source: watches RSS, Atom and JSON feeds and emits each new item once.
#include "config.hpp"
#include "feed_poller.hpp"
#include "poll_queue.hpp"

#include <relais/plugin.hpp>

#include <algorithm>
#include <memory>
#include <vector>

namespace relais::rss {

class RssPlugin : public Plugin {
public:
    explicit RssPlugin(Host &h) : Plugin(h), config_(read_config(host())), seen_(host()) {
        PollOptions options{config_.timeout_ms, config_.user_agent, config_.skip_existing};
        for (const FeedConfig &feed : config_.feeds)
            pollers_.push_back(std::make_unique<FeedPoller>(host(), feed, options, gate_, seen_));
    }

    void start() override {
        queue_.start(std::min<size_t>(pollers_.size(), max_poll_threads));
        for (auto &poller : pollers_) {
            FeedPoller *p = poller.get();
            host().timer_start(0, p->feed().interval_ms, [this, p] {
                if (p->begin_tick()) queue_.push([p] { p->poll(); });
            });
        }
        host().log_info("rss: watching " + std::to_string(pollers_.size()) + " feed" +
                        (pollers_.size() == 1 ? "" : "s"));
    }

    // Nothing is emitted once the gate is closed; a fetch in progress ends within `timeout` and is waited for.
    void stop() override {
        gate_.close();
        queue_.stop();
    }

private:
    static constexpr size_t max_poll_threads = 4; // slow feeds do not hold up the others, up to this many

    RssConfig config_;
    EmitGate gate_;
    SeenStore seen_; // shared by the feeds: an article in two of them is relayed once
    std::vector<std::unique_ptr<FeedPoller>> pollers_;
    PollQueue queue_; // last: stopped (joined) first on destruction
};

} // namespace relais::rss

static const relais_config_key rss_keys[] = {
    {"feeds", RELAIS_CONFIG_LIST, nullptr, 1,
     "the feeds to watch: each a URL (http://, https://, file:// or a file path) or a map {url, interval, channel, "
     "name, headers}"},
    {"interval", RELAIS_CONFIG_DURATION, "5m", 0, "how often each feed is fetched, unless the feed sets its own"},
    {"timeout", RELAIS_CONFIG_DURATION, "30s", 0, "the longest one fetch may take"},
    {"user_agent", RELAIS_CONFIG_STRING, relais::rss::default_user_agent, 0, "the User-Agent header sent"},
    {"skip_existing", RELAIS_CONFIG_BOOL, "false", 0,
     "on a feed's first fetch, remember the items already there without relaying them"},
};

RELAIS_PLUGIN(relais::rss::RssPlugin, "rss", "0.1.0", "Watches RSS, Atom and JSON feeds and relays new items",
              RELAIS_CAP_SOURCE, RELAIS_LEVEL_PUBLIC, rss_keys)
