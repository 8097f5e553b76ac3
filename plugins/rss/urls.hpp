// urls.hpp — where a feed lives (http, https or a local file) and how its relative links resolve.
#pragma once

#include <optional>
#include <string>

namespace relais::rss {

struct FeedLocation {
    bool is_file = false;
    std::string url;      // http(s) URL to fetch, or the file:// URL of the file (also the base of relative links)
    std::string path;     // with is_file: the absolute path to read
};

// Reads a configured feed address: http://, https://, file:// or a plain path (relative to the current
// directory). Returns nullopt and sets `error` (what to write instead) when it is none of these.
std::optional<FeedLocation> parse_location(const std::string &text, std::string &error);

// Resolves a possibly relative reference against an absolute base URL (RFC 3986). A reference that cannot be
// parsed, or a base that is not absolute, gives the reference unchanged (trimmed).
std::string resolve_url(const std::string &base, const std::string &ref);

} // namespace relais::rss
