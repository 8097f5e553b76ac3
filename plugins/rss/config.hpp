// config.hpp — the rss plugin's configuration, read and checked from the host's config (keys in plugin.cpp).
#pragma once

#include "urls.hpp"

#include <relais/plugin.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace relais::rss {

struct FeedConfig {
    std::string url;      // as written in the config: the feed's identity in logs, metadata and stored state
    FeedLocation location;
    std::string name;     // optional label
    std::string channel;  // the messages' channel; default: name, else url
    uint64_t interval_ms = 0;
    std::vector<std::pair<std::string, std::string>> headers;

    std::string label() const { return name.empty() ? url : "\"" + name + "\" (" + url + ")"; }
    std::string message_channel() const { return !channel.empty() ? channel : !name.empty() ? name : url; }
};

struct RssConfig {
    std::vector<FeedConfig> feeds;
    uint64_t timeout_ms = 30'000;
    std::string user_agent;
    bool skip_existing = false;
};

constexpr uint64_t default_interval_ms = 5 * 60'000;
constexpr uint64_t min_interval_ms = 1'000;
constexpr const char *default_user_agent = "Relais-RSS/0.1";

// Throws relais::ConfigError naming the dotted path of the first mistake.
RssConfig read_config(const Host &host);

} // namespace relais::rss
