// config.cpp — reading and checking the irc keys; every error names the key and what to write instead.
#include "config.hpp"

#include "line.hpp"

#include <algorithm>

namespace relais::irc {

namespace {
bool valid_nick(const std::string &nick) {
    if (nick.empty() || nick.size() > 30) return false;
    if ((nick[0] >= '0' && nick[0] <= '9') || nick[0] == '-') return false;
    return std::all_of(nick.begin(), nick.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("-_[]{}\\`^|").find(c) != std::string_view::npos;
    });
}

bool valid_channel(const std::string &c) {
    return is_channel(c) && c.size() <= 50 && c.find_first_of(" ,\x07\r\n") == std::string::npos;
}
} // namespace

IrcConfig read_config(const Host &host) {
    IrcConfig c;
    c.server = host.config_required("server");
    if (c.server.find_first_of(" /") != std::string::npos)
        throw ConfigError("server", "expected a host name or address such as irc.example.org, without scheme or path");
    c.tls = host.config_bool("tls", false);
    int64_t port = host.config_int("port", c.tls ? 6697 : 6667);
    if (port < 1 || port > 65535) throw ConfigError("port", "must be between 1 and 65535 (6667, or 6697 with TLS)");
    c.port = static_cast<uint16_t>(port);
    c.tls_verify = host.config_bool("tls_verify", true);
    c.tls_ca = host.config_string("tls_ca");

    c.nick = host.config_required("nick");
    if (!valid_nick(c.nick))
        throw ConfigError("nick", "\"" + c.nick + "\" is not a valid IRC nick: letters, digits and -_[]{}\\`^|, "
                                  "not starting with a digit or '-', at most 30 characters");
    c.username = host.config_string("username", "relais");
    if (c.username.empty() || c.username.find_first_of(" @\r\n") != std::string::npos)
        throw ConfigError("username", "must be one word without '@', e.g. relais");
    c.realname = host.config_string("realname", "Relais bridge");
    c.password = host.config_string("password");
    c.sasl_username = host.config_string("sasl_username");
    c.sasl_password = host.config_string("sasl_password");
    if (c.sasl_username.empty() != c.sasl_password.empty())
        throw ConfigError(c.sasl_username.empty() ? "sasl_username" : "sasl_password",
                          "SASL PLAIN needs both sasl_username and sasl_password");

    c.channels = host.config_strings("channels");
    for (size_t i = 0; i < c.channels.size(); ++i)
        if (!valid_channel(c.channels[i]))
            throw ConfigError("channels." + std::to_string(i),
                              "\"" + c.channels[i] + "\" is not a channel name: write it with its '#', e.g. \"#team\" "
                              "(quoted, since YAML reads # as a comment)");
    c.default_channel = host.config_string("channel", c.channels.empty() ? "" : c.channels.front());
    if (!c.default_channel.empty() && !valid_channel(c.default_channel))
        throw ConfigError("channel", "\"" + c.default_channel + "\" is not a channel name: write it with its '#', "
                                     "quoted, e.g. \"#team\"");
    if (!c.default_channel.empty() &&
        std::none_of(c.channels.begin(), c.channels.end(),
                     [&](const std::string &x) { return irc_lower(x) == irc_lower(c.default_channel); }))
        c.channels.push_back(c.default_channel);

    c.burst = host.config_double("burst", 5);
    if (c.burst < 1) throw ConfigError("burst", "must be at least 1 (lines sent at once before the rate applies)");
    c.rate = host.config_double("rate", 2);
    if (c.rate <= 0) throw ConfigError("rate", "must be above 0 (lines per second), e.g. 2");
    c.reconnect_min_ms = host.config_duration_ms("reconnect_min", 1000);
    c.reconnect_max_ms = host.config_duration_ms("reconnect_max", 300'000);
    if (c.reconnect_min_ms == 0) throw ConfigError("reconnect_min", "must be above 0, e.g. 1s");
    if (c.reconnect_max_ms < c.reconnect_min_ms)
        throw ConfigError("reconnect_max", "must not be below reconnect_min");
    c.connect_timeout_ms = host.config_duration_ms("connect_timeout", 15'000);
    c.send_timeout_ms = host.config_duration_ms("send_timeout", 60'000);
    c.emit_notices = host.config_bool("notices", true);
    return c;
}

} // namespace relais::irc
