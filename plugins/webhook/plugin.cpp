// The `webhook` connector: generic HTTP webhooks in and out, with Slack-compatible payloads.
// In: an HTTP server takes POSTed JSON messages and answers 202 once the host accepted them.
// Out: each delivery is one POST to `url`, as the message's JSON or as a Slack payload.
#include "inbound.hpp"
#include "outbound.hpp"
#include "signature.hpp"

#include <relais/net/http.hpp>
#include <relais/plugin.hpp>

#include <atomic>
#include <cctype>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace relais::webhook {
namespace {

constexpr const char *kSignatureHeader = "X-Relais-Signature";
constexpr int kRetryAfterSeconds = 5;

bool valid_header_name(const std::string &name) {
    if (name.empty()) return false;
    for (unsigned char c : name)
        if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                     std::string_view::npos))
            return false;
    return true;
}

std::string lower_ascii(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

class WebhookPlugin : public Plugin {
public:
    explicit WebhookPlugin(Host &h) : Plugin(h) {
        // Out
        url_ = h.config_string("url");
        if (h.config_has("url")) {
            if (url_.rfind("http://", 0) != 0 && url_.rfind("https://", 0) != 0)
                throw ConfigError("url", "must start with http:// or https://, got \"" + url_ + "\"");
            outbound_ = true;
        }
        std::string format = h.config_string("format", "json");
        auto f = parse_format(format);
        if (!f) throw ConfigError("format", "must be json or slack, got \"" + format + "\"");
        format_ = *f;
        timeout_ms_ = h.config_duration_ms("timeout", 10'000);
        if (timeout_ms_ == 0) throw ConfigError("timeout", "must be more than 0, e.g. 10s");
        verify_tls_ = h.config_bool("verify_tls", true);
        ca_file_ = h.config_string("ca_file");
        for (const std::string &name : h.config_keys("headers")) {
            if (!valid_header_name(name))
                throw ConfigError("headers." + name, "is not a valid HTTP header name");
            std::string lower = lower_ascii(name);
            if (lower == "content-length" || lower == "host" || lower == "transfer-encoding")
                throw ConfigError("headers." + name, "is set by the HTTP client itself; remove it");
            std::string value = h.config_string("headers." + name);
            if (value.find_first_of("\r\n") != std::string::npos)
                throw ConfigError("headers." + name, "must be one line (no line breaks)");
            headers_.emplace_back(name, value);
        }

        // In
        if (h.config_has("listen") || h.config_has("port")) {
            inbound_ = true;
            listen_ = h.config_string("listen", "127.0.0.1");
            if (listen_.empty()) throw ConfigError("listen", "is empty; write an address such as 127.0.0.1");
            if (!h.config_has("port"))
                throw ConfigError("port", "is required with `listen`: the port to receive webhooks on (0 picks a "
                                          "free one)");
            int64_t port = h.config_int("port");
            if (port < 0 || port > 65535)
                throw ConfigError("port", "must be between 0 and 65535, got " + std::to_string(port));
            port_ = static_cast<uint16_t>(port);
        }
        path_ = h.config_string("path", "/");
        if (path_.empty() || path_[0] != '/') throw ConfigError("path", "must start with /, got \"" + path_ + "\"");
        int64_t max_body = h.config_int("max_body", 1 << 20);
        if (max_body <= 0) throw ConfigError("max_body", "must be a number of bytes above 0, e.g. 1048576");
        max_body_ = static_cast<size_t>(max_body);
        channel_ = h.config_string("channel");

        // Both ways
        if (h.config_has("secret")) {
            secret_ = h.config_string("secret");
            if (secret_->empty())
                throw ConfigError("secret", "is empty (an unset ${env:…}?); set the shared secret, or remove the key");
        }
        if (h.config_has("token")) {
            token_ = h.config_string("token");
            if (token_->empty())
                throw ConfigError("token", "is empty (an unset ${env:…}?); set the token, or remove the key");
        }

        if (!inbound_ && !outbound_)
            throw ConfigError("url", "neither `url` (to send webhooks) nor `port`/`listen` (to receive them) is "
                                     "set; set at least one");
    }
    ~WebhookPlugin() override { stop(); }

    void start() override {
        if (!inbound_) return;
        net::HttpServer::Options options;
        options.host = listen_;
        options.port = port_;
        options.max_body_bytes = max_body_;
        // One thread serves every connection: a webhook is answered once its message is stored, without holding
        // the thread, so the messages of many senders wait together and are stored in one commit.
        options.threads = 1;
        options.log_error = [this](const std::string &text) { host().log_error("webhook HTTP server: " + text); };
        auto server = std::make_unique<net::HttpServer>(
            options, [this](const net::Request &r, net::HttpServer::Reply reply) { handle(r, std::move(reply)); });
        stopping_ = false;
        server->start(); // throws "cannot listen on …": the start error the user sees
        uint16_t bound = server->port();
        server_ = std::move(server);
        host().gauge_set("listen_port", bound);
        std::string shown = listen_.find(':') != std::string::npos ? "[" + listen_ + "]" : listen_;
        host().log_info("receiving webhooks on http://" + shown + ":" + std::to_string(bound) + path_ +
                        (secret_ ? " (signature required)" : "") + (token_ ? " (token required)" : ""));
        if (!secret_ && !token_ && listen_ != "127.0.0.1" && listen_ != "::1" && listen_ != "localhost")
            host().log_warn("webhooks are received on " + listen_ + " without `secret` or `token`: anyone who "
                            "reaches the port can post messages; set one of them");
    }

    void stop() override {
        stopping_ = true;
        if (server_) server_->stop(); // waits for the handlers: nothing is emitted after this
        server_.reset();
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        if (!outbound_)
            return DeliverResult::failed("this webhook instance only receives: set `url` to send to it");
        std::string body = build_payload(format_, m, d);
        net::ClientRequest req;
        req.method = "POST";
        req.url = url_;
        req.body = body;
        req.timeout = std::chrono::milliseconds(timeout_ms_);
        req.verify_tls = verify_tls_;
        req.ca_file = ca_file_;
        req.max_redirects = 0; // a redirected POST may become a GET: report it instead (see verdict())
        req.headers.emplace_back("Content-Type", "application/json");
        if (!d.delivery_key.empty()) req.headers.emplace_back("Idempotency-Key", d.delivery_key);
        if (secret_) req.headers.emplace_back(kSignatureHeader, sign_body(*secret_, body));
        for (const auto &h : headers_) req.headers.push_back(h);

        DeliverResult result = verdict(client_.request(req), url_origin(url_));
        if (result.status == RELAIS_DELIVERED) host().counter_add("delivered");
        else if (result.status == RELAIS_RETRY) host().counter_add("deliver_retry");
        else host().counter_add("deliver_failed");
        return result;
    }

private:
    net::Response refuse(int status, const std::string &why, const net::Request &r, const char *counter) {
        host().counter_add(counter);
        if (status == 401) host().log_warn("refused a webhook from " + r.remote + ": " + why);
        else host().log_debug("refused a webhook from " + r.remote + " (" + std::to_string(status) + "): " + why);
        return net::Response::error(status, why);
    }

    void handle(const net::Request &r, net::HttpServer::Reply reply) {
        Message m;
        if (auto refused = check(r, m)) return reply(std::move(*refused));
        if (stopping_) return reply(unavailable("the webhook receiver is stopping"));
        host().emit_async(m, [this, remote = r.remote, reply = std::move(reply)](int rc) {
            if (rc != RELAIS_OK) {
                host().counter_add("emit_failed");
                host().log_warn("Relais did not accept a webhook from " + remote + " (code " + std::to_string(rc) +
                                "); answered 503 so the sender tries again");
                return reply(
                    unavailable("Relais could not accept the message now; it was not kept, send it again later"));
            }
            host().counter_add("accepted");
            reply(net::Response::json(202, R"({"accepted":true})"));
        });
    }

    // The answer to a request that is refused before its message is emitted; else nothing, with `m` filled in.
    std::optional<net::Response> check(const net::Request &r, Message &m) {
        if (r.path != path_) return net::Response::error(404, "no webhook here: POST to " + path_);
        if (r.method != "POST") {
            auto res = net::Response::error(405, "webhooks are POSTed to " + path_);
            res.headers.emplace_back("Allow", "POST");
            return res;
        }
        if (token_ && !same_bytes(r.header("authorization"), "Bearer " + *token_)) {
            auto res = refuse(401, "missing or wrong token: send Authorization: Bearer <token>", r, "refused_auth");
            res.headers.emplace_back("WWW-Authenticate", "Bearer");
            return res;
        }
        if (secret_) {
            std::string signature = r.header("x-relais-signature");
            if (signature.empty())
                return refuse(401,
                              "missing X-Relais-Signature header: send sha256=<hex HMAC-SHA256 of the body with the "
                              "shared secret>",
                              r, "refused_auth");
            if (!signature_matches(signature, *secret_, r.body))
                return refuse(401, "X-Relais-Signature does not match the body (wrong secret, or the body changed)",
                              r, "refused_auth");
        }

        std::string error;
        if (!parse_payload(r.body, channel_, m, error)) {
            if (r.header("content-type").find("x-www-form-urlencoded") != std::string::npos)
                error += " (form-encoded bodies such as payload=… are not supported: POST the JSON itself with "
                         "Content-Type: application/json)";
            return refuse(400, error, r, "refused_invalid");
        }
        m.metadata.emplace_back("remote", r.remote);
        return std::nullopt;
    }

    static net::Response unavailable(const std::string &why) {
        auto res = net::Response::error(503, why);
        res.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
        return res;
    }

    // Out
    bool outbound_ = false;
    std::string url_;
    Format format_ = Format::json;
    uint64_t timeout_ms_ = 10'000;
    bool verify_tls_ = true;
    std::string ca_file_;
    std::vector<std::pair<std::string, std::string>> headers_;
    // In
    bool inbound_ = false;
    std::string listen_;
    uint16_t port_ = 0;
    std::string path_;
    size_t max_body_ = 1 << 20;
    std::string channel_;
    net::HttpClient client_; // keeps the connection to `url` alive between deliveries
    std::unique_ptr<net::HttpServer> server_;
    std::atomic<bool> stopping_{false};
    // Both
    std::optional<std::string> secret_, token_;
};

} // namespace
} // namespace relais::webhook

// The reference for this plugin's config; README.md repeats it.
static const relais_config_key webhook_keys[] = {
    {"url", RELAIS_CONFIG_STRING, nullptr, 0,
     "out: POST each delivery to this http(s) URL; setting it makes the instance a sink"},
    {"format", RELAIS_CONFIG_STRING, "json", 0,
     "out: json (the message as JSON, plus rendered and delivery) or slack ({text, username, channel})"},
    {"headers", RELAIS_CONFIG_MAP, nullptr, 0, "out: extra HTTP headers sent with each POST (name: value)"},
    {"timeout", RELAIS_CONFIG_DURATION, "10s", 0, "out: time allowed for one POST, answer included"},
    {"verify_tls", RELAIS_CONFIG_BOOL, "true", 0, "out: check the https server's certificate and name"},
    {"ca_file", RELAIS_CONFIG_STRING, nullptr, 0, "out: PEM file of CAs to trust instead of the system's"},
    {"listen", RELAIS_CONFIG_STRING, nullptr, 0,
     "in: address to receive webhooks on (127.0.0.1 when only `port` is set); needs `port`"},
    {"port", RELAIS_CONFIG_INT, nullptr, 0,
     "in: port to receive webhooks on (0 picks a free one); setting it makes the instance a source"},
    {"path", RELAIS_CONFIG_STRING, "/", 0, "in: the path webhooks are POSTed to"},
    {"max_body", RELAIS_CONFIG_INT, "1048576", 0, "in: largest accepted body in bytes (larger: 413)"},
    {"channel", RELAIS_CONFIG_STRING, nullptr, 0, "in: channel given to messages that name none"},
    {"secret", RELAIS_CONFIG_STRING, nullptr, 0,
     "in and out: shared secret; bodies carry X-Relais-Signature: sha256=<hex HMAC-SHA256 of the body>"},
    {"token", RELAIS_CONFIG_STRING, nullptr, 0, "in: require Authorization: Bearer <token>"},
};

RELAIS_PLUGIN(relais::webhook::WebhookPlugin, "webhook", "1.0.0",
              "Generic HTTP webhooks in and out (JSON messages, Slack-compatible payloads)",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_PUBLIC, webhook_keys)
