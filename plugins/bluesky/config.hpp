// config.hpp — a bluesky instance's settings, read and checked from its config: block.
#pragma once

#include <relais/plugin.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace bluesky {

struct Config {
    std::string service;       // the PDS the account lives on: sign-in and posting
    std::string identifier;
    std::string app_password;
    bool watch = true;
    std::string firehose;      // ws(s)://…/xrpc/com.atproto.sync.subscribeRepos
    std::string plc_directory; // for DID → handle
    std::vector<std::string> follow, mentions, keywords;
    std::string post_url_base;
    std::vector<std::string> langs;
    std::string channel;       // the channel of emitted messages; empty: the reason (mention, follow, keyword)
    std::chrono::milliseconds timeout{15'000}, reconnect_min{1'000}, reconnect_max{60'000};
    std::string tls_ca;
};

Config read_config(const relais::Host &host);

// The firehose URL of a service URL: https → wss, http → ws, plus the subscribeRepos path.
std::string firehose_url_for(const std::string &service);

} // namespace bluesky
