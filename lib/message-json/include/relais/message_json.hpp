// relais/message_json.hpp — the message model as JSON: the form used by `relais explain --message`, the admin
// API, the file sink and the archive. Field names are the C ABI's (see docs/message.md).
#pragma once

#include <relais/message.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace relais {

boost::json::object message_to_json_value(const Message &m);
std::string message_to_json(const Message &m);

// Parses a JSON object into a Message. Unknown fields are an error, so a typo does not pass silently.
// Returns false and sets `error` (naming the field) on bad input.
bool message_from_json_value(const boost::json::value &v, Message &out, std::string &error);
bool message_from_json(std::string_view text, Message &out, std::string &error);

} // namespace relais
