// config.cpp — reading and checking the xmpp keys; every error names the key and what to write instead.
#include "config.hpp"

#include <algorithm>

namespace relais::xmpp {

bool looks_like_bare_jid(const std::string &jid) {
    if (jid.empty() || jid.size() > 3071) return false;
    if (jid.find_first_of(" /\t\r\n\"'<>&") != std::string::npos) return false;
    auto at = jid.find('@');
    if (at != std::string::npos && (at == 0 || jid.find('@', at + 1) != std::string::npos)) return false;
    std::string domain = at == std::string::npos ? jid : jid.substr(at + 1);
    return !domain.empty() && domain.front() != '.' && domain.back() != '.';
}

namespace {
std::string bare_of(const std::string &jid) { return jid.substr(0, jid.find('/')); }

std::vector<std::string> read_jids(const Host &host, const char *key, const char *example) {
    std::vector<std::string> out = host.config_strings(key);
    for (size_t i = 0; i < out.size(); ++i)
        if (!looks_like_bare_jid(out[i]))
            throw ConfigError(std::string(key) + "." + std::to_string(i),
                              "\"" + out[i] + "\" is not a bare JID: write it as name@domain, e.g. " + example);
    return out;
}
} // namespace

XmppConfig read_config(const Host &host) {
    XmppConfig c;
    c.jid = host.config_required("jid");
    if (!looks_like_bare_jid(bare_of(c.jid)) || c.jid.find('@') == std::string::npos)
        throw ConfigError("jid", "\"" + c.jid + "\" is not an account JID: write it as user@domain, e.g. "
                                 "relais@chat.example.org");
    c.password = host.config_required("password");
    c.server = host.config_string("server");
    if (c.server.find_first_of(" /:") != std::string::npos)
        throw ConfigError("server", "expected a host name or address such as xmpp.example.org, without scheme, "
                                    "port or path (the port is `port`)");

    std::string tls = host.config_string("tls", "starttls");
    if (tls == "starttls") c.tls = TlsMode::starttls;
    else if (tls == "direct") c.tls = TlsMode::direct;
    else if (tls == "plaintext") c.tls = TlsMode::plaintext;
    else throw ConfigError("tls", "expected starttls, direct or plaintext, got \"" + tls + "\"");
    int64_t port = host.config_int("port", 0);
    if (port < 0 || port > 65535) throw ConfigError("port", "must be between 1 and 65535 (5222, or 5223 for direct)");
    c.port = static_cast<uint16_t>(port);
    if (c.port && c.server.empty())
        throw ConfigError("port", "a port needs `server` too (without it the JID's domain is looked up by SRV)");
    c.tls_verify = host.config_bool("tls_verify", true);
    c.tls_ca = host.config_string("tls_ca");
    if (c.tls == TlsMode::plaintext && !c.tls_ca.empty())
        throw ConfigError("tls_ca", "has no use with tls: plaintext; remove it or choose tls: starttls");

    c.rooms = read_jids(host, "rooms", "team@conference.example.org");
    c.peers = read_jids(host, "direct", "alice@example.org");
    c.all_direct = host.config_bool("direct_from_anyone", false);
    std::string local = c.jid.substr(0, c.jid.find('@'));
    c.nick = host.config_string("nick", local);
    if (c.nick.empty() || c.nick.size() > 1023 || c.nick.find_first_of("\r\n\t") != std::string::npos)
        throw ConfigError("nick", "must be a non-empty name without line breaks, e.g. relais");
    c.default_to = host.config_string("to", c.rooms.empty() ? "" : c.rooms.front());
    if (!c.default_to.empty() && !looks_like_bare_jid(c.default_to))
        throw ConfigError("to", "\"" + c.default_to + "\" is not a bare JID: write a room or a person, e.g. "
                                "team@conference.example.org");

    int64_t max_length = host.config_int("max_length", 10'000);
    // Servers close the stream on a stanza over their limit (Prosody: 256 KiB), and escaping can grow a text.
    if (max_length < 16 || max_length > 100'000)
        throw ConfigError("max_length", "must be between 16 and 100000 bytes, e.g. 10000");
    c.max_length = static_cast<size_t>(max_length);
    c.reconnect_min_ms = host.config_duration_ms("reconnect_min", 1000);
    c.reconnect_max_ms = host.config_duration_ms("reconnect_max", 300'000);
    if (c.reconnect_min_ms == 0) throw ConfigError("reconnect_min", "must be above 0, e.g. 1s");
    if (c.reconnect_max_ms < c.reconnect_min_ms) throw ConfigError("reconnect_max", "must not be below reconnect_min");
    c.send_timeout_ms = host.config_duration_ms("send_timeout", 30'000);
    if (c.send_timeout_ms < 100) throw ConfigError("send_timeout", "must be at least 100ms, e.g. 30s");
    c.ping_interval_ms = host.config_duration_ms("ping_interval", 60'000);
    if (c.ping_interval_ms < 1000) throw ConfigError("ping_interval", "must be at least 1s, e.g. 60s");
    return c;
}

} // namespace relais::xmpp
