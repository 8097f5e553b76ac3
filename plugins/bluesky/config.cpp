#include "config.hpp"

namespace bluesky {

namespace {

std::string without_trailing_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

bool has_scheme(const std::string &url, std::initializer_list<const char *> schemes) {
    for (const char *scheme : schemes)
        if (url.rfind(std::string(scheme) + "://", 0) == 0 && url.size() > std::string(scheme).size() + 3) return true;
    return false;
}

} // namespace

std::string firehose_url_for(const std::string &service) {
    std::string base = service.rfind("https://", 0) == 0 ? "wss://" + service.substr(8)
                                                          : "ws://" + service.substr(service.find("://") + 3);
    return base + "/xrpc/com.atproto.sync.subscribeRepos";
}

Config read_config(const relais::Host &host) {
    Config c;
    c.service = without_trailing_slash(host.config_string("service", "https://bsky.social"));
    if (!has_scheme(c.service, {"http", "https"}))
        throw relais::ConfigError("service", "expected an http:// or https:// URL, e.g. https://bsky.social");
    c.identifier = host.config_required("identifier");
    c.app_password = host.config_required("app_password");
    c.watch = host.config_bool("watch", true);
    c.firehose = without_trailing_slash(host.config_string("firehose"));
    if (c.firehose.empty()) c.firehose = firehose_url_for(c.service);
    else if (!has_scheme(c.firehose, {"ws", "wss"}))
        throw relais::ConfigError("firehose", "expected a ws:// or wss:// URL, e.g. wss://bsky.network");
    else if (c.firehose.find("/xrpc/") == std::string::npos)
        c.firehose += "/xrpc/com.atproto.sync.subscribeRepos";
    c.plc_directory = without_trailing_slash(host.config_string("plc_directory", "https://plc.directory"));
    c.follow = host.config_strings("follow");
    c.mentions = host.config_strings("mentions");
    c.keywords = host.config_strings("keywords");
    for (size_t i = 0; i < c.keywords.size(); ++i)
        if (c.keywords[i].empty()) throw relais::ConfigError("keywords." + std::to_string(i), "is empty");
    c.post_url_base = without_trailing_slash(host.config_string("post_url_base", "https://bsky.app"));
    c.langs = host.config_strings("langs");
    c.channel = host.config_string("channel");
    c.timeout = std::chrono::milliseconds(host.config_duration_ms("timeout", 15'000));
    c.reconnect_min = std::chrono::milliseconds(host.config_duration_ms("reconnect_min", 1'000));
    c.reconnect_max = std::chrono::milliseconds(host.config_duration_ms("reconnect_max", 60'000));
    if (c.reconnect_min.count() <= 0) throw relais::ConfigError("reconnect_min", "must be more than 0");
    if (c.reconnect_max < c.reconnect_min)
        throw relais::ConfigError("reconnect_max", "must be at least reconnect_min");
    c.tls_ca = host.config_string("tls_ca");
    return c;
}

} // namespace bluesky
