// xrpc.hpp — calls to an AT Protocol server (XRPC over HTTP) with an app-password session that refreshes itself.
#pragma once

#include <relais/net/http.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace bluesky {

struct XrpcResult {
    int status = 0;              // 0: no answer (then `error` says why)
    std::string error;           // the server's "error" name (ExpiredToken…) or the transport error
    std::string message;         // the server's "message"
    boost::json::value body;     // the JSON answer, null when there was none
    uint32_t retry_after_ms = 0; // for 429 and 503: when the server says to come back

    bool ok() const { return status >= 200 && status < 300; }
    // Worth trying again later: no answer, 408, 429 or 5xx.
    bool transient() const { return status == 0 || status == 408 || status == 429 || status >= 500; }
    std::string describe() const; // "429 RateLimitExceeded: …" for logs and delivery errors
};

// How long a 429 asks to wait: the ratelimit-reset header (Unix seconds) against `now_unix_ms`, else Retry-After,
// else 0. Capped at one hour.
uint32_t retry_after_ms(const std::map<std::string, std::string> &headers, int64_t now_unix_ms);

// The "exp" claim (Unix seconds) of a JWT, without checking its signature; nullopt when unreadable.
std::optional<int64_t> jwt_expiry(const std::string &jwt);

class Xrpc {
public:
    struct Options {
        std::string service;    // https://bsky.social
        std::string identifier; // handle, DID or e-mail
        std::string password;   // an app password
        std::chrono::milliseconds timeout{15'000};
        std::chrono::seconds refresh_margin{300}; // refresh the session this long before the access token expires
        std::string ca_file;
        std::function<void(const std::string &)> on_session; // told "signed in …" / "refreshed …", for the log
    };
    explicit Xrpc(Options options) : options_(std::move(options)) {}

    // Unauthenticated GET of a query, e.g. com.atproto.identity.resolveHandle with {handle: …}.
    XrpcResult query(const std::string &nsid, const std::map<std::string, std::string> &params);
    // Authenticated: logs in (or refreshes) first when needed, and once more on ExpiredToken.
    XrpcResult query_authed(const std::string &nsid, const std::map<std::string, std::string> &params);
    XrpcResult procedure_authed(const std::string &nsid, const boost::json::value &body);

    // Logs in now if there is no session; "" when signed in, else why not.
    std::string ensure_session();
    std::string did() const;
    std::string handle() const;
    int64_t logins() const { return logins_; }
    int64_t refreshes() const { return refreshes_; }

    // A plain GET of any URL (the PLC directory), with the client's timeout.
    relais::net::ClientResponse get_url(const std::string &url);

private:
    XrpcResult send(const std::string &method, const std::string &nsid, const std::string &query,
                    const std::string &body, const std::string &bearer);
    XrpcResult authed(const std::string &method, const std::string &nsid, const std::string &query,
                      const std::string &body);
    std::string session_locked(bool force_refresh); // returns an access token or throws std::runtime_error
    bool create_session_locked(std::string &why);
    bool refresh_session_locked(std::string &why);
    void take_session_locked(const boost::json::value &body);

    Options options_;
    relais::net::HttpClient client_; // kept-alive connections to the PDS (and the PLC directory)
    mutable std::mutex mutex_;
    std::string access_, refresh_, did_, handle_;
    int64_t access_expiry_ = 0; // Unix seconds; 0 when unknown
    int64_t logins_ = 0, refreshes_ = 0;
};

// Percent-encodes for a query string.
std::string url_encode(std::string_view s);

} // namespace bluesky
