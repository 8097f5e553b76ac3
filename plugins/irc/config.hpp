// config.hpp — the irc instance's configuration, read and checked once in the constructor.
#pragma once

#include <relais/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace relais::irc {

struct IrcConfig {
    std::string server;
    uint16_t port = 6667;
    bool tls = false;
    bool tls_verify = true;
    std::string tls_ca; // a CA file; empty: the system's
    std::string nick, username, realname;
    std::string password; // server password (PASS)
    std::string sasl_username, sasl_password;
    std::vector<std::string> channels;
    std::string default_channel;
    double burst = 5, rate = 2;
    uint64_t reconnect_min_ms = 1000, reconnect_max_ms = 300'000;
    uint64_t connect_timeout_ms = 15'000;
    uint64_t send_timeout_ms = 60'000;
    bool emit_notices = true;
};

IrcConfig read_config(const Host &host);

} // namespace relais::irc
