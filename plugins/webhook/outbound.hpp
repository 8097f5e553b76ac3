// What the sink sends (the body in the configured format) and how it reads the answer (the host's verdict).
#pragma once

#include <relais/net/http.hpp>
#include <relais/plugin.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace relais::webhook {

enum class Format { json, slack };

std::optional<Format> parse_format(std::string_view name);

// json: the whole message as the message model's JSON, plus "rendered" and a "delivery" object
//       (channel, key, attempt, reply_to).
// slack: {"text": rendered, "username": author, "channel": the delivery's channel if any,
//         "thread_ts": the delivery's reply_to if any}.
std::string build_payload(Format format, const Message &m, const Delivery &d);

// 2xx → ok (native id from a JSON answer's "id"); 408, 425, 429 and 5xx → retry (with Retry-After); no answer
// (refused, timed out, TLS) → retry; redirects and other answers → failed. `where` names the destination in errors.
DeliverResult verdict(const net::ClientResponse &res, const std::string &where);

// "https://hooks.example.com" from a URL: what logs and errors may show (a webhook's path often holds its secret).
std::string url_origin(const std::string &url);

} // namespace relais::webhook
