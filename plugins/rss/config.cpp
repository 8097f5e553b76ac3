// config.cpp — reads `feeds` (URL strings or {url, interval, channel, name, headers} maps) and the shared keys.
#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <strings.h>

namespace relais::rss {
namespace {

constexpr const char *feed_keys[] = {"url", "interval", "channel", "name", "headers"};

uint64_t read_interval(const Host &host, const std::string &path, uint64_t fallback) {
    uint64_t ms = host.config_duration_ms(path, fallback);
    if (ms < min_interval_ms)
        throw ConfigError(path, "is shorter than 1s; poll a feed every few minutes, e.g. 5m");
    return ms;
}

bool is_token(const std::string &s) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
    });
}

std::vector<std::pair<std::string, std::string>> read_headers(const Host &host, const std::string &path) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!host.config_has(path)) return out;
    if (host.config_size(path) == 0)
        throw ConfigError(path, "expected a map of header names to values, e.g. headers: {Authorization: \"Bearer …\"}");
    for (const std::string &name : host.config_keys(path)) {
        std::string at = path + "." + name;
        if (!is_token(name)) throw ConfigError(at, "is not a valid HTTP header name");
        if (strcasecmp(name.c_str(), "If-None-Match") == 0 || strcasecmp(name.c_str(), "If-Modified-Since") == 0)
            throw ConfigError(at, "is set by the plugin itself (conditional GET); remove it");
        std::string value = host.config_string(at);
        if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos)
            throw ConfigError(at, "must not contain line breaks");
        out.emplace_back(name, value);
    }
    return out;
}

FeedLocation read_location(const std::string &path, const std::string &text) {
    std::string error;
    auto location = parse_location(text, error);
    if (!location) throw ConfigError(path, error);
    return *location;
}

} // namespace

RssConfig read_config(const Host &host) {
    RssConfig config;
    uint64_t interval = read_interval(host, "interval", default_interval_ms);
    config.timeout_ms = host.config_duration_ms("timeout", 30'000);
    if (config.timeout_ms == 0) throw ConfigError("timeout", "must be more than 0, e.g. 30s");
    config.user_agent = host.config_string("user_agent", default_user_agent);
    config.skip_existing = host.config_bool("skip_existing", false);

    size_t count = host.config_size("feeds");
    if (count == 0) {
        // "feeds: https://example.com/feed.xml" stands for a list of one.
        if (auto one = host.config_optional("feeds"); one && !one->empty()) {
            FeedConfig feed;
            feed.url = *one;
            feed.location = read_location("feeds", *one);
            feed.interval_ms = interval;
            config.feeds.push_back(std::move(feed));
            return config;
        }
        throw ConfigError("feeds", "add at least one feed, e.g. feeds: [https://example.com/feed.xml]");
    }

    for (size_t i = 0; i < count; ++i) {
        const std::string path = "feeds." + std::to_string(i);
        FeedConfig feed;
        feed.interval_ms = interval;
        std::string url_path = path;
        if (host.config_size(path) == 0) {
            feed.url = host.config_string(path);
            if (feed.url.empty())
                throw ConfigError(path, "is empty; write a feed URL or a map {url: …, interval: …, channel: …}");
        } else {
            for (const std::string &key : host.config_keys(path)) {
                if (!key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
                    throw ConfigError(path, "is a list; write a feed URL or a map {url: …, interval: …}");
                if (std::find(std::begin(feed_keys), std::end(feed_keys), key) == std::end(feed_keys))
                    throw ConfigError(path + "." + key,
                                      "unknown key; a feed takes url, interval, channel, name and headers");
            }
            url_path = path + ".url";
            feed.url = host.config_string(url_path);
            if (feed.url.empty())
                throw ConfigError(url_path, "is required: write the feed's address, e.g. https://example.com/feed.xml");
            feed.interval_ms = read_interval(host, path + ".interval", interval);
            feed.channel = host.config_string(path + ".channel");
            feed.name = host.config_string(path + ".name");
            feed.headers = read_headers(host, path + ".headers");
        }
        feed.location = read_location(url_path, feed.url);
        if (feed.location.is_file && !feed.headers.empty())
            throw ConfigError(path + ".headers", "only applies to http:// and https:// feeds; remove it");
        for (size_t j = 0; j < config.feeds.size(); ++j)
            if (config.feeds[j].location.url == feed.location.url)
                throw ConfigError(url_path, "is the same feed as feeds." + std::to_string(j) +
                                                "; list each feed once (give it one channel)");
        config.feeds.push_back(std::move(feed));
    }
    return config;
}

} // namespace relais::rss
