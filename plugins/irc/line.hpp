// line.hpp — one IRC protocol line: parsing what the server sends (IRCv3 tags, prefix, command, parameters) and
// writing what the client sends.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relais::irc {

// The longest line (tags excluded) RFC 1459 allows, CR LF included.
constexpr size_t max_line_bytes = 512;
// What this client accepts from a server before calling a line over-long: 8191 bytes of tags and 512 of the rest.
constexpr size_t max_incoming_bytes = 8191 + 512;

struct Line {
    std::vector<std::pair<std::string, std::string>> tags; // unescaped values
    std::string prefix;                                      // without the ':'
    std::string command;                                     // upper case, or a three-digit numeric
    std::vector<std::string> params;                         // the trailing one included, without its ':'

    std::string_view tag(std::string_view key) const;
    bool has_tag(std::string_view key) const;
    const std::string &param(size_t i) const; // empty when absent
};

// Parses one line without its CR LF. nullopt when it is not an IRC line (no command, bad tags, NUL bytes).
std::optional<Line> parse_line(std::string_view raw);

// "nick!user@host" → nick; a server name stays as it is.
std::string_view prefix_nick(std::string_view prefix);

// A command with its parameters; the last one is written as a trailing parameter when it needs to be
// (empty, starts with ':' or holds a space). No CR LF.
std::string format_line(std::string_view command, const std::vector<std::string> &params);

// "\x01ACTION waves\x01" → "waves"; nullopt when the text is not an ACTION.
std::optional<std::string_view> ctcp_action(std::string_view text);
// Any other CTCP request or reply ("\x01VERSION\x01").
bool is_ctcp(std::string_view text);

// IRCv3 server-time ("2026-11-26T09:17:39.123Z") as Unix milliseconds; 0 when it does not parse.
int64_t parse_server_time(std::string_view value);

// Whether a target names a channel (#, &, + or ! first).
bool is_channel(std::string_view target);

// The text as valid UTF-8: kept as it is when it already is, otherwise read as Latin-1 (what older IRC clients send).
std::string to_utf8(std::string_view s);
bool valid_utf8(std::string_view s);

// IRC case mapping (rfc1459): compares channel and nick names as the server does.
std::string irc_lower(std::string_view s);

} // namespace relais::irc
