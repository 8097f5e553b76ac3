// config.hpp — the xmpp instance's configuration, read and checked once in the constructor.
#pragma once

#include <relais/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace relais::xmpp {

enum class TlsMode { starttls, direct, plaintext };

struct XmppConfig {
    std::string jid;      // the bot's account, user@domain[/resource]
    std::string password;
    std::string server;   // empty: the JID's domain (with SRV lookup)
    uint16_t port = 0;    // 0: 5222 (5223 with direct TLS)
    TlsMode tls = TlsMode::starttls;
    bool tls_verify = true;
    std::string tls_ca;   // a CA file; empty: the system's
    std::string nick;     // the bot's nick in rooms
    std::vector<std::string> rooms;   // bare room JIDs to join
    std::vector<std::string> peers;   // bare JIDs whose direct messages are relayed
    bool all_direct = false;          // relay direct messages from anyone
    std::string default_to;           // where deliveries without a channel go
    size_t max_length = 10'000;       // bytes of body per message: longer texts are split (out) or cut (in)
    uint64_t reconnect_min_ms = 1000, reconnect_max_ms = 300'000;
    uint64_t send_timeout_ms = 30'000;
    uint64_t ping_interval_ms = 60'000;
};

XmppConfig read_config(const Host &host);

// A bare JID looks like node@domain or domain, without a resource; checks the shape only.
bool looks_like_bare_jid(const std::string &jid);

} // namespace relais::xmpp
