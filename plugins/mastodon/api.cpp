// api.cpp — one blocking exchange per call through relais_net, on kept-alive connections.
#include "api.hpp"

#include "entities.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace relais::mastodon {

net::ClientRequest Api::request(const std::string &method, const std::string &path) const {
    net::ClientRequest r;
    r.method = method;
    r.url = url(path);
    r.timeout = std::chrono::milliseconds(config_.timeout_ms);
    r.verify_tls = config_.verify_tls;
    r.ca_file = config_.ca_file;
    r.max_redirects = 0; // the API does not redirect; a redirect would drop the token anyway
    r.headers.emplace_back("User-Agent", "relais/0.1 (mastodon connector)");
    r.headers.emplace_back("Accept", "application/json");
    if (!config_.token.empty()) r.headers.emplace_back("Authorization", "Bearer " + config_.token);
    return r;
}

net::ClientResponse Api::get(const std::string &path_and_query) const {
    return client_.request(request("GET", path_and_query));
}

net::ClientResponse Api::send(const std::string &method, const std::string &path, const std::string &json_body,
                              const std::string &key) const {
    net::ClientRequest r = request(method, path);
    if (!json_body.empty()) {
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = json_body;
    }
    if (!key.empty()) r.headers.emplace_back("Idempotency-Key", key);
    return client_.request(r);
}

std::string url_encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars); // RFC 3986 unreserved stay, the rest %XX
}

std::string describe(const std::string &what, const net::ClientResponse &response) {
    if (response.status == 0) return what + " failed: " + (response.error.empty() ? "no answer" : response.error);
    std::string out = what + " answered HTTP " + std::to_string(response.status);
    std::string message = error_message(response.body);
    if (!message.empty()) out += ": " + message;
    return out;
}

std::optional<std::chrono::milliseconds> rate_limit_delay(const net::ClientResponse &response, int64_t now) {
    if (auto reset = parse_iso_time(response.header("x-ratelimit-reset")))
        return std::chrono::milliseconds(*reset > now ? *reset - now : 0);
    return net::parse_retry_after(response.header("retry-after"));
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace relais::mastodon
