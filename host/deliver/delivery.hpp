// What the delivery stage hands a sink, and what the sink answers.
#pragma once

#include <relais/message.hpp>
#include <relais/plugin.h>

#include <cstdint>
#include <string>

namespace relais {

struct DeliveryJob {
    Message message;
    std::string channel;
    std::string rendered;
    std::string delivery_key; // message id + destination: the same on every retry
    std::string route;
    uint32_t attempts = 0;
    int64_t seq = 0;         // its place in the outbox
    std::string last_error;  // why the last attempt failed
};

struct DeliveryOutcome {
    relais_deliver_status status = RELAIS_DELIVERED;
    uint32_t retry_after_ms = 0;
    std::string native_id;
    std::string error;
};

} // namespace relais
