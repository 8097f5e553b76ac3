// api.hpp — requests to one Mastodon server's REST API: addresses, the bearer token, and reading failed answers.
#pragma once

#include "config.hpp"

#include <relais/net/http.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relais::mastodon {

class Api {
public:
    explicit Api(const MastodonConfig &config) : config_(config) {}

    // GET server + path_and_query, with the token when there is one.
    net::ClientResponse get(const std::string &path_and_query) const;
    // A JSON request (POST, PUT, DELETE); the Idempotency-Key header when `key` is not empty.
    net::ClientResponse send(const std::string &method, const std::string &path, const std::string &json_body,
                             const std::string &key = {}) const;

    std::string url(const std::string &path_and_query) const { return config_.server + path_and_query; }

private:
    net::ClientRequest request(const std::string &method, const std::string &path) const;
    const MastodonConfig &config_;
    mutable net::HttpClient client_; // one kept-alive connection to the server: no TLS handshake a call
};

// Percent-encodes everything but unreserved characters, for a path segment or a query value.
std::string url_encode(std::string_view s);

// "GET /api/v1/… answered HTTP 401: The access token is invalid", or "… failed: connection refused".
std::string describe(const std::string &what, const net::ClientResponse &response);

// How long a 429 (or 503) asks to wait: X-RateLimit-Reset (an ISO 8601 time) or Retry-After. nullopt when neither.
std::optional<std::chrono::milliseconds> rate_limit_delay(const net::ClientResponse &response, int64_t now_ms);

int64_t now_ms();

} // namespace relais::mastodon
