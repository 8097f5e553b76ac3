// config.cpp — reads and checks the mastodon instance's keys.
#include "config.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace relais::mastodon {
namespace {

bool is_visibility(const std::string &v) { return v == "public" || v == "unlisted" || v == "private" || v == "direct"; }

std::string without_trailing_slash(std::string url) {
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    return url;
}

void check_url(const std::string &key, const std::string &url) {
    auto parsed = boost::urls::parse_uri(url);
    bool ok = parsed && (parsed->scheme() == "https" || parsed->scheme() == "http") && !parsed->host().empty();
    if (!ok)
        throw ConfigError(key, "expected the server's address such as https://mastodon.social, got \"" + url + "\"");
}

} // namespace

MastodonConfig read_config(const Host &host) {
    MastodonConfig c;
    c.server = without_trailing_slash(host.config_required("server"));
    check_url("server", c.server);
    c.streaming_url = without_trailing_slash(host.config_string("streaming_url"));
    if (!c.streaming_url.empty()) check_url("streaming_url", c.streaming_url);
    c.token = host.config_string("token");
    c.mentions = host.config_bool("mentions", false);

    auto hashtags = host.config_strings("hashtags");
    for (size_t i = 0; i < hashtags.size(); ++i) {
        std::string tag = hashtags[i];
        if (!tag.empty() && tag.front() == '#') tag.erase(0, 1);
        if (tag.empty() || tag.find_first_of(" /?&#") != std::string::npos)
            throw ConfigError("hashtags." + std::to_string(i),
                              "expected a hashtag such as veille, got \"" + hashtags[i] + "\"");
        c.hashtags.push_back(tag);
    }
    auto accounts = host.config_strings("accounts");
    for (size_t i = 0; i < accounts.size(); ++i) {
        std::string acct = accounts[i];
        if (!acct.empty() && acct.front() == '@') acct.erase(0, 1);
        if (acct.empty() || acct.find_first_of(" /?&#") != std::string::npos)
            throw ConfigError("accounts." + std::to_string(i),
                              "expected an account such as alice or alice@other.example, got \"" + accounts[i] + "\"");
        c.accounts.push_back(acct);
    }

    c.streaming = host.config_bool("streaming", false);
    c.interval_ms = host.config_duration_ms("interval", 60'000);
    if (c.interval_ms < 1000)
        throw ConfigError("interval", "must be at least 1s (Mastodon servers rate-limit clients)");
    c.timeout_ms = host.config_duration_ms("timeout", 10'000);
    if (c.timeout_ms == 0) throw ConfigError("timeout", "must be more than 0");
    c.reconnect_ms = host.config_duration_ms("reconnect", 5'000);
    c.page_limit = static_cast<int>(host.config_int("page_limit", 40));
    if (c.page_limit < 1 || c.page_limit > 40)
        throw ConfigError("page_limit", "must be between 1 and 40 (the API's largest page)");
    c.skip_existing = host.config_bool("skip_existing", false);

    if (host.config_has("visibilities")) {
        c.visibilities.clear();
        auto list = host.config_strings("visibilities");
        for (size_t i = 0; i < list.size(); ++i) {
            if (!is_visibility(list[i]))
                throw ConfigError("visibilities." + std::to_string(i),
                                  "expected public, unlisted, private or direct, got \"" + list[i] + "\"");
            c.visibilities.insert(list[i]);
        }
    }
    std::string cw = host.config_string("content_warning", "prefix");
    if (cw == "prefix")
        c.content_warning = ContentWarning::prefix;
    else if (cw == "hide")
        c.content_warning = ContentWarning::hide;
    else if (cw == "skip")
        c.content_warning = ContentWarning::skip;
    else
        throw ConfigError("content_warning", "expected prefix, hide or skip, got \"" + cw + "\"");

    c.post_visibility = host.config_string("post_visibility", "public");
    if (!is_visibility(c.post_visibility))
        throw ConfigError("post_visibility",
                          "expected public, unlisted, private or direct, got \"" + c.post_visibility + "\"");
    c.verify_tls = host.config_bool("verify_tls", true);
    c.ca_file = host.config_string("ca_file");

    if (c.token.empty() && c.mentions)
        throw ConfigError("mentions", "needs `token`: notifications are private to the account");
    if (c.streaming && c.token.empty())
        throw ConfigError("streaming", "needs `token`: the streaming API requires an access token");
    return c;
}

} // namespace relais::mastodon
