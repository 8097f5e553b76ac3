// The `api` connector: Matterbridge's API bridge, so tools written for it talk to Relais unchanged.
// POST /api/message and WebSocket frames come in as messages; deliveries go out to GET /api/messages (a buffer),
// /api/stream (chunked, one JSON per line) and /api/websocket.
#include "convert.hpp"
#include "fanout.hpp"
#include "mb_message.hpp"

#include <relais/net/http.hpp>
#include <relais/plugin.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>

namespace relais::api {
namespace {

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Compares a presented token with the configured one without stopping at the first difference.
bool same_token(std::string_view given, std::string_view expected) {
    if (given.size() != expected.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
    return diff == 0;
}

std::string json_error(const std::string &message) {
    return net::Response::error(400, message).body;
}

class ApiPlugin : public Plugin {
public:
    explicit ApiPlugin(Host &h)
        : Plugin(h), listen_host_(h.config_string("host", "127.0.0.1")), token_(h.config_optional("token")),
          fanout_(buffer_size(h)) {
        if (listen_host_.empty()) throw ConfigError("host", "is empty; write an address such as 127.0.0.1");
        int64_t port = h.config_int("port", 0);
        if (port < 0 || port > 65535)
            throw ConfigError("port", "must be between 0 and 65535 (0 picks a free port), got " + std::to_string(port));
        port_ = static_cast<uint16_t>(port);
        if (token_ && token_->empty())
            throw ConfigError("token", "is empty (an unset ${env:…}?); set a token, or remove the key to run "
                                       "without one");
        account_ = h.config_string("account", "api." + h.instance_id());
        gateway_ = h.config_string("gateway", h.instance_id());
        send_deletes_ = h.config_bool("send_deletes", false);
    }
    ~ApiPlugin() override { stop(); }

    void start() override {
        net::HttpServer::Options options;
        options.host = listen_host_;
        options.port = port_;
        // One thread serves every connection: a posted message is answered once it is stored, without holding
        // the thread, so the messages of many senders wait together and are stored in one commit.
        options.threads = 1;
        options.log_error = [this](const std::string &text) { host().log_error("HTTP server: " + text); };
        auto server = std::make_unique<net::HttpServer>(
            options, [this](const net::Request &r, net::HttpServer::Reply reply) { handle(r, std::move(reply)); });
        server->stream("/api/stream", "application/json",
                       {[this](std::shared_ptr<net::Stream> s) { open_client(s, "stream"); }, nullptr,
                        [this](std::shared_ptr<net::Stream> s) { close_client(s); }});
        server->websocket("/api/websocket",
                          {[this](std::shared_ptr<net::Stream> s) { open_client(s, "websocket"); },
                           [this](std::shared_ptr<net::Stream> s, std::string text) { on_frame(s, text); },
                           [this](std::shared_ptr<net::Stream> s) { close_client(s); }});
        stopping_ = false;
        server->start(); // throws "cannot listen on …", which reaches the user as the start error
        uint16_t bound = server->port();
        server_ = std::move(server);
        host().gauge_set("listen_port", bound);
        std::string shown = listen_host_.find(':') != std::string::npos ? "[" + listen_host_ + "]" : listen_host_;
        host().log_info("Matterbridge API listening on http://" + shown + ":" + std::to_string(bound) +
                        "/api (port " + std::to_string(bound) + ", account " + account_ + ", gateway " + gateway_ +
                        (token_ ? ", token required)" : ", no token)"));
        if (!token_ && listen_host_ != "127.0.0.1" && listen_host_ != "::1" && listen_host_ != "localhost")
            host().log_warn("the Matterbridge API listens on " + listen_host_ +
                            " without a token: anyone who reaches it can post and read messages; set `token`");
    }

    void stop() override {
        stopping_ = true;
        if (server_) server_->stop(); // closes every client and waits for the handlers: nothing is emitted after
        server_.reset();
        fanout_.close_all();
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        if (m.kind == Kind::remove && !send_deletes_) {
            host().counter_add("deletes_skipped");
            return DeliverResult::ok(m.id);
        }
        MbMessage mb = from_relais(m, d, OutboundSettings{account_, gateway_, now_ms()});
        Fanout::Published p = fanout_.publish(mb_to_json_text(mb));
        if (p.dropped) {
            host().counter_add("buffer_dropped");
            if (p.first_drop)
                host().log_warn("the GET /api/messages buffer is full (" + std::to_string(fanout_.capacity()) +
                                " messages): dropping the oldest ones until a client reads it. Stream and "
                                "WebSocket clients still get every message; read /api/messages more often or "
                                "raise `buffer`. Count: relais_plugin_buffer_dropped.");
        }
        host().counter_add("delivered");
        host().gauge_set("buffered", static_cast<double>(fanout_.buffered()));
        return DeliverResult::ok(m.id);
    }

private:
    static size_t buffer_size(Host &h) {
        int64_t n = h.config_int("buffer", 1000);
        if (n < 0) throw ConfigError("buffer", "must be 0 or more (0 keeps nothing for GET /api/messages)");
        return static_cast<size_t>(n);
    }

    bool authorized(const net::Request &r) const {
        if (!token_) return true;
        std::string auth = r.header("authorization");
        constexpr std::string_view scheme = "bearer ";
        if (auth.size() <= scheme.size()) return false;
        for (size_t i = 0; i < scheme.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(auth[i])) != scheme[i]) return false;
        return same_token(std::string_view(auth).substr(scheme.size()), *token_);
    }

    net::Response unauthorized() {
        host().counter_add("unauthorized");
        auto r = net::Response::error(401, "missing or wrong token: send the header Authorization: Bearer <token>");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }

    void handle(const net::Request &r, net::HttpServer::Reply reply) {
        if (r.path == "/api/message" && r.method == "POST" && authorized(r)) return post(r.body, std::move(reply));
        reply(answer(r));
    }

    net::Response answer(const net::Request &r) {
        if (!authorized(r)) return unauthorized();
        auto only = [&](const char *method) -> std::optional<net::Response> {
            if (r.method == method) return std::nullopt;
            auto res = net::Response::error(405, r.path + " accepts " + method + " only");
            res.headers.emplace_back("Allow", method);
            return res;
        };
        if (r.path == "/api/health") return only("GET").value_or(net::Response::text(200, "OK"));
        if (r.path == "/api/messages") {
            if (auto no = only("GET")) return *no;
            auto res = net::Response::json(200, fanout_.take_all());
            host().gauge_set("buffered", 0);
            return res;
        }
        if (r.path == "/api/message") return *only("POST"); // a POST was handled before
        if (r.path == "/api/stream" || r.path == "/api/websocket") return only("GET").value_or(
            net::Response::error(400, r.path + " needs a streaming GET"));
        return net::Response::error(404, "no such endpoint: " + r.path +
                                             " (try /api/message, /api/messages, /api/stream, /api/websocket, "
                                             "/api/health)");
    }

    // One posted message, from POST /api/message or a WebSocket frame: `answer` gets the status and JSON answer
    // once the message is stored (on a host thread) or refused.
    void post(std::string_view body, std::function<void(net::Response)> answer) {
        std::string error;
        auto parsed = parse_mb_message(body, error);
        std::optional<Inbound> in;
        if (parsed) in = to_relais(std::move(*parsed), InboundDefaults{account_, gateway_, new_native_id(), now_ms()},
                                   error);
        if (!in) {
            host().counter_add("rejected");
            return answer(net::Response::error(400, error));
        }
        if (!in->message) {
            host().counter_add("events_ignored");
            return answer(net::Response::json(200, mb_to_json_text(in->echo)));
        }
        if (stopping_) return answer(refused(RELAIS_E_STOPPING));
        host().emit_async(*in->message, [this, echo = mb_to_json_text(in->echo), answer = std::move(answer)](int rc) {
            if (rc == RELAIS_OK) {
                host().counter_add("received");
                return answer(net::Response::json(200, echo));
            }
            answer(refused(rc));
        });
    }

    net::Response refused(int rc) {
        if (rc == RELAIS_E_INVALID) {
            host().counter_add("rejected");
            return net::Response::error(400, "Relais refused the message as invalid");
        }
        host().counter_add("refused");
        std::string why = rc == RELAIS_E_STOPPING ? "Relais is shutting down" : "Relais could not store the message";
        auto res = net::Response::error(503, why + ": it was not accepted; send it again later");
        res.headers.emplace_back("Retry-After", "1");
        return res;
    }

    void open_client(const std::shared_ptr<net::Stream> &s, const char *what) {
        if (!authorized(s->request())) {
            // The server has already answered the GET (101 or 200): say why, then hang up.
            host().counter_add("unauthorized");
            s->send(json_error("missing or wrong token: send the header Authorization: Bearer <token>") + "\n");
            s->close();
            return;
        }
        fanout_.join(s, mb_to_json_text(greeting(now_ms())));
        host().gauge_set("clients", static_cast<double>(fanout_.clients()));
        host().log_debug(std::string(what) + " client connected from " + s->request().remote);
    }

    void close_client(const std::shared_ptr<net::Stream> &s) {
        fanout_.leave(s);
        host().gauge_set("clients", static_cast<double>(fanout_.clients()));
    }

    // A text frame from a WebSocket client is a posted message. The protocol has no answer for it; a frame that
    // is refused gets {"error": …} back so the client can tell.
    void on_frame(const std::shared_ptr<net::Stream> &s, const std::string &text) {
        if (!authorized(s->request())) return;
        post(text, [s](net::Response res) {
            if (res.status != 200) s->send(res.body + "\n");
        });
    }

    // Time first, then a counter and randomness: ids sort in the order they were given, so the host's
    // indexes keyed by native id (deduplication, id map) grow at one end instead of touching a page a message.
    std::string new_native_id() {
        std::lock_guard lock(id_mutex_);
        static const char hex[] = "0123456789abcdef";
        const uint64_t ms = static_cast<uint64_t>(now_ms());
        id_counter_ = ms == id_ms_ ? id_counter_ + 1 : 0;
        id_ms_ = ms;
        const uint64_t random = rng_();
        std::string id = "api-";
        for (int i = 11; i >= 0; --i) id += hex[(ms >> (i * 4)) & 0xF];
        for (int i = 3; i >= 0; --i) id += hex[(id_counter_ >> (i * 4)) & 0xF];
        for (int i = 7; i >= 0; --i) id += hex[(random >> (i * 4)) & 0xF];
        return id;
    }

    std::string listen_host_;
    uint16_t port_ = 0;
    std::optional<std::string> token_;
    std::string account_, gateway_;
    bool send_deletes_ = false;
    Fanout fanout_;
    std::atomic<bool> stopping_{true};
    std::mutex id_mutex_;
    uint64_t id_ms_ = 0, id_counter_ = 0; // the last id's millisecond, and how many came before it in it
    std::mt19937_64 rng_{std::random_device{}()};
    std::unique_ptr<net::HttpServer> server_; // last: stopped and destroyed before what its handlers use
};

} // namespace
} // namespace relais::api

static const relais_config_key api_keys[] = {
    {"host", RELAIS_CONFIG_STRING, "127.0.0.1", 0, "address to listen on (keep loopback unless a token is set)"},
    {"port", RELAIS_CONFIG_INT, "0", 0, "TCP port; 0 picks a free one (logged, and in the listen_port gauge)"},
    {"token", RELAIS_CONFIG_STRING, nullptr, 0,
     "when set, every request needs the header Authorization: Bearer <token>"},
    {"buffer", RELAIS_CONFIG_INT, "1000", 0,
     "messages kept for GET /api/messages; beyond it the oldest is dropped (counter buffer_dropped)"},
    {"account", RELAIS_CONFIG_STRING, nullptr, 0,
     "account name reported for posted messages (Matterbridge's protocol.name); default api.<instance id>"},
    {"gateway", RELAIS_CONFIG_STRING, nullptr, 0, "gateway name written in every message; default the instance id"},
    {"send_deletes", RELAIS_CONFIG_BOOL, "false", 0,
     "send deletions to clients as msg_delete events (Matterbridge's API never sends them)"},
};

RELAIS_PLUGIN(relais::api::ApiPlugin, "api", "1.0.0", "Matterbridge-compatible HTTP/WebSocket API",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, api_keys)
