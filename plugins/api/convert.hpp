// convert.hpp — Matterbridge API messages to relais::Message and back.
#pragma once

#include "mb_message.hpp"

#include <relais/plugin.hpp>

#include <optional>
#include <string>

namespace relais::api {

// What a posted message becomes.
struct Inbound {
    MbMessage echo;                // what the client gets back: the posted message with the defaults filled in
    std::optional<Message> message; // nullopt: an event with nothing to relay (api_connected, user_typing)
};

struct InboundDefaults {
    std::string account;  // reported when the client gives none
    std::string gateway;  // likewise
    std::string native_id; // used when the client gives no id (and for deletions, which carry the target's id)
    int64_t now_ms = 0;
};

// Returns nullopt and sets `error` when the message cannot be relayed (empty text, a deletion without an id).
std::optional<Inbound> to_relais(MbMessage posted, const InboundDefaults &defaults, std::string &error);

struct OutboundSettings {
    std::string account; // used when the message has no source
    std::string gateway;
    int64_t now_ms = 0;
};

// The Matterbridge form of a delivery (never called for deletions unless they are sent as msg_delete events).
MbMessage from_relais(const Message &m, const Delivery &d, const OutboundSettings &settings);

// The greeting Matterbridge writes first on /api/stream and /api/websocket.
MbMessage greeting(int64_t now_ms);

} // namespace relais::api
