// A POSTed body → a relais::Message: the generic message object (the message model's field names and common
// aliases) and Slack's incoming-webhook payload ({"text", "username", "channel", …}) are read by the same code.
#pragma once

#include <relais/message.hpp>

#include <string>
#include <string_view>

namespace relais::webhook {

// Fills `out` from the raw body, or returns false with `error` saying what is wrong (invalid UTF-8, not JSON, not an
// object, no text, a field of the wrong type). Tags, mentions and links found in the text are added to the ones the
// payload lists. `default_channel` is used when the payload names no channel.
bool parse_payload(std::string_view body, const std::string &default_channel, Message &out, std::string &error);

} // namespace relais::webhook
