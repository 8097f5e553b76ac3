// config.hpp — the mastodon instance's configuration, read and checked once in the constructor.
#pragma once

#include <relais/plugin.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace relais::mastodon {

// What to do with a status that carries a content warning (spoiler_text).
enum class ContentWarning {
    prefix, // text is "CW: <warning>" followed by the content
    hide,   // text is "CW: <warning>" only; the content stays behind the link
    skip,   // such statuses are not emitted
};

struct MastodonConfig {
    std::string server;        // https://mastodon.example, without a trailing slash
    std::string streaming_url; // the streaming server; empty: same as `server`
    std::string token;
    bool mentions = false;
    std::vector<std::string> hashtags; // without '#'
    std::vector<std::string> accounts; // acct: "alice" or "alice@other.example"
    bool streaming = false;
    uint64_t interval_ms = 60'000;
    uint64_t timeout_ms = 10'000;
    uint64_t reconnect_ms = 5'000;
    int page_limit = 40;
    int max_pages = 10;         // per stream and poll: a bound on one catch-up
    bool skip_existing = false; // first poll of a stream only records where it stands
    std::set<std::string> visibilities{"public", "unlisted"};
    ContentWarning content_warning = ContentWarning::prefix;
    std::string post_visibility = "public";
    bool verify_tls = true;
    std::string ca_file;

    bool is_source() const { return mentions || !hashtags.empty() || !accounts.empty(); }
};

MastodonConfig read_config(const Host &host);

} // namespace relais::mastodon
