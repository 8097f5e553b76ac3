// mb_message.hpp — Matterbridge's API message (bridge/config/config.go, type Message) as JSON.
// Parsing follows Go's encoding/json as Matterbridge uses it: field names match case-insensitively, unknown
// fields are ignored, null leaves a field empty, a value of the wrong type is an error.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relais::api {

// Matterbridge's event names (config.Event*).
inline constexpr std::string_view event_api_connected = "api_connected";
inline constexpr std::string_view event_user_action = "user_action";
inline constexpr std::string_view event_user_typing = "user_typing";
inline constexpr std::string_view event_msg_delete = "msg_delete";
// The parent_id Matterbridge writes when it could not find the parent on the destination.
inline constexpr std::string_view parent_not_found = "msg-parent-not-found";

struct MbMessage {
    std::string text;
    std::string channel;
    std::string username;
    std::string userid;
    std::string avatar;
    std::string account;
    std::string event;
    std::string protocol;
    std::string gateway;
    std::string parent_id;
    int64_t timestamp_ms = 0; // Unix ms; 0 when absent (Go's zero time)
    std::string id;
    std::optional<boost::json::object> extra; // nullopt is written as null
};

// Parses one posted message. On failure returns nullopt and sets `error` to a sentence for the client.
std::optional<MbMessage> parse_mb_message(std::string_view body, std::string &error);

// The JSON object, fields in Matterbridge's order, "Extra" capitalised as Go writes it.
boost::json::object mb_to_json(const MbMessage &m);
std::string mb_to_json_text(const MbMessage &m);

// RFC 3339 in UTC with milliseconds ("2024-05-01T12:00:00.250Z"), and its reverse (any offset, any fraction).
std::string format_rfc3339(int64_t unix_ms);
std::optional<int64_t> parse_rfc3339(std::string_view text);

bool valid_utf8(std::string_view text);

} // namespace relais::api
