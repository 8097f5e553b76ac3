// feed_fetch.hpp — one fetch of a feed: a conditional HTTP GET, or a read of a local file.
#pragma once

#include "urls.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace relais::rss {

struct FetchRequest {
    FeedLocation location;
    std::vector<std::pair<std::string, std::string>> headers; // from the config; they win over ours
    std::string etag;          // from the last 200: sent as If-None-Match
    std::string last_modified; // from the last 200: sent as If-Modified-Since
    std::chrono::milliseconds timeout{30'000};
    std::string user_agent;
};

struct FetchResult {
    enum class Outcome { fresh, not_modified, failed };
    Outcome outcome = Outcome::failed;
    int status = 0;            // the HTTP status (0 for files and when no answer came)
    std::string body;
    std::string etag, last_modified; // validators of a fresh answer
    std::string charset;       // of a fresh HTTP answer: the Content-Type's charset parameter, lower-cased
    std::string error;         // with failed: what went wrong, for the log
    std::optional<std::chrono::milliseconds> retry_after; // with 429 or 503 and a Retry-After header
};

// Biggest feed file read from disk.
constexpr size_t max_file_bytes = 16u << 20;

// Never throws.
FetchResult fetch_feed(const FetchRequest &request);

} // namespace relais::rss
