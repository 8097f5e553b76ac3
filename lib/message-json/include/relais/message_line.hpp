// relais/message_line.hpp — one delivery as one line: human-readable text or a JSON object (the console and file
// sinks).
#pragma once

#include <relais/plugin.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace relais::lines {

enum class Format { text, json };

std::optional<Format> parse_format(std::string_view name);

// "[2024-05-01T12:34:56Z] network/channel author: rendered\n". The time is when the message was written (else
// received, else `now_ms`), in UTC. Line breaks in the text become "\n" and other control characters "?", so a
// message is always one line and cannot send escape sequences to a terminal.
std::string format_text(const Message &m, const Delivery &d, int64_t now_ms);

// relais::message_to_json's object plus "rendered" and "to_channel" (the destination channel), then "\n".
std::string format_json(const Message &m, const Delivery &d);

std::string format_line(Format f, const Message &m, const Delivery &d, int64_t now_ms);

} // namespace relais::lines
