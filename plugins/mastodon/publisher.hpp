// publisher.hpp — the sink side: a delivery becomes a new status, an edit, a delete or a favourite.
#pragma once

#include "api.hpp"
#include "config.hpp"

#include <relais/plugin.hpp>

namespace relais::mastodon {

// POST /api/v1/statuses (Idempotency-Key: the delivery key), PUT and DELETE /api/v1/statuses/:id. 429, 408, 5xx and
// network failures are retried (after the server's delay for a 429); other 4xx fail with the server's message.
DeliverResult publish(const Api &api, const MastodonConfig &config, const Message &m, const Delivery &d);

} // namespace relais::mastodon
