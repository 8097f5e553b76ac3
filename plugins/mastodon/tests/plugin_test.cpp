// The plugin through the real ABI (FakeHost), against a fake server on 127.0.0.1 that answers recorded payloads.
#include "payloads.hpp"

#include <relais/net/http.hpp>
#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <deque>
#include <chrono>
#include <mutex>
#include <thread>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using Catch::Matchers::Contains;
using mastodon_test::payload;
using relais::testing::FakeHost;
namespace net = relais::net;

namespace {

// Answers queued responses first, then the routes; records every request.
class FakeServer {
public:
    FakeServer() : server_({}, [this](const net::Request &r) { return answer(r); }) { server_.start(); }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
    void route(const std::string &path, net::Response response) {
        std::lock_guard lock(mutex_);
        routes_[path] = std::move(response);
    }
    void queue(net::Response response) {
        std::lock_guard lock(mutex_);
        queued_.push_back(std::move(response));
    }
    std::vector<net::Request> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    net::Response answer(const net::Request &r) {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        if (!queued_.empty()) {
            auto out = queued_.front();
            queued_.pop_front();
            return out;
        }
        auto it = routes_.find(r.path);
        if (it != routes_.end()) return it->second;
        return net::Response::json(404, payload("error_not_found.json"));
    }

    std::mutex mutex_;
    std::map<std::string, net::Response> routes_;
    std::deque<net::Response> queued_;
    std::vector<net::Request> requests_;
    net::HttpServer server_;
};

std::vector<std::string> ids(const FakeHost &host) {
    std::vector<std::string> out;
    for (const auto &m : host.emitted())
        out.push_back(m.native_id);
    return out;
}

bool logged(const FakeHost &host, int32_t level, const std::string &needle) {
    for (const auto &[l, text] : host.logs())
        if (l == level && text.find(needle) != std::string::npos) return true;
    return false;
}

// Fires the poll timer and waits for the poll it asks for to end (polls run on the plugin's own thread).
void poll(FakeHost &host) {
    double before = host.metric("polls");
    host.run_timers();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (host.metric("polls") <= before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(host.metric("polls") > before);
}

std::string create_error(FakeHost::Config config) {
    try {
        FakeHost host(relais_plugin_entry(), std::move(config));
    } catch (const std::exception &e) {
        return e.what();
    }
    return "(no error)";
}

relais::Message post(const std::string &text) {
    relais::Message m;
    m.id = "01JDELIVERY";
    m.text = text;
    m.language = "fr";
    return m;
}

} // namespace

TEST_CASE("plugin: describes itself and checks its config", "[plugin]") {
    const relais_plugin_info *info = relais_plugin_entry();
    CHECK(std::string(info->name) == "mastodon");
    CHECK(info->capabilities == (RELAIS_CAP_SOURCE | RELAIS_CAP_SINK));
    CHECK(info->default_level == RELAIS_LEVEL_PUBLIC);
    CHECK_THAT(create_error({{"server", "mastodon.social"}}), Contains("server: expected the server's address"));
    CHECK_THAT(create_error({{"server", "https://m.example"}, {"mentions", "true"}}),
               Contains("mentions: needs `token`"));
    CHECK_THAT(create_error({{"server", "https://m.example"}, {"visibilities", "secret"}}),
               Contains("expected public, unlisted, private or direct"));
    CHECK_THAT(create_error({{"server", "https://m.example"}, {"page_limit", "80"}}), Contains("page_limit"));
    CHECK(create_error({{"server", "https://m.example/"}, {"hashtags.0", "#veille"}}) == "(no error)");
}

TEST_CASE("plugin: a hashtag timeline is relayed oldest first, once, and resumes from its cursor", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/timelines/tag/veille", net::Response::json(200, payload("timeline_tag_veille.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"hashtags.0", "veille"}, {"token", "tok"}});
    host.start();
    poll(host);
    CHECK(ids(host) == std::vector<std::string>{"109400000000000301", "109400000000000302", "109400000000000303"});
    CHECK(host.emitted()[0].channel == "#veille");
    CHECK(host.kv()["cursor:" + server.url() + ":tag:veille"] == "109400000000000303");
    auto first = server.requests().at(0);
    CHECK(first.param("limit") == "40");
    CHECK(first.param("min_id").empty());
    CHECK(first.header("authorization") == "Bearer tok");

    // The server ignores min_id here and answers the same page: nothing is emitted twice.
    poll(host);
    CHECK(host.emitted().size() == 3);
    CHECK(server.requests().at(1).param("min_id") == "109400000000000303");
    host.stop();
}

TEST_CASE("plugin: mentions come from notifications, direct ones are left out by default", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/notifications", net::Response::json(200, payload("notifications_mentions.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"mentions", "true"}, {"token", "tok"}});
    host.start();
    poll(host);
    REQUIRE(ids(host) == std::vector<std::string>{"109400000000000201", "109400000000000203"});
    CHECK(host.emitted()[0].meta("notification_id") == "3501");
    CHECK(host.kv()["cursor:" + server.url() + ":mentions"] == "3510");
    CHECK(server.requests().at(0).target.find("types%5B%5D=mention") != std::string::npos);
    CHECK(host.metric("statuses_filtered") == 1);
    host.stop();
}

TEST_CASE("plugin: an item the host refuses is offered again, later items wait behind it", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/timelines/tag/veille", net::Response::json(200, payload("timeline_tag_veille.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"hashtags.0", "veille"}});
    host.start();
    host.fail_emits(RELAIS_E_STORAGE);
    poll(host);
    CHECK(host.emitted().empty());
    CHECK(host.kv().count("cursor:" + server.url() + ":tag:veille") == 0);
    host.fail_emits(RELAIS_OK);
    poll(host);
    CHECK(host.emitted().size() == 3);
    host.stop();
}

TEST_CASE("plugin: a malformed item is logged and skipped, a malformed page is read again later", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/timelines/tag/veille", net::Response::json(200, payload("timeline_tag_malformed_item.json")));
    server.queue(net::Response::json(200, payload("truncated_page.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"hashtags.0", "veille"}});
    host.start();
    poll(host);
    CHECK(host.emitted().empty());
    CHECK(logged(host, RELAIS_LOG_ERROR, "not valid JSON"));
    poll(host);
    CHECK(ids(host) == std::vector<std::string>{"109400000000000305"});
    CHECK(logged(host, RELAIS_LOG_WARN, "status 109400000000000310"));
    CHECK(host.kv()["cursor:" + server.url() + ":tag:veille"] == "109400000000000310");
    CHECK(host.metric("malformed_payloads") == 2);
    host.stop();
}

TEST_CASE("plugin: an account is looked up once, then its statuses are polled", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/accounts/lookup", net::Response::json(200, payload("account_acme.json")));
    server.route("/api/v1/accounts/109300000000000100/statuses",
                 net::Response::json(200, payload("account_statuses_acme.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"accounts.0", "@acme"}});
    host.start();
    poll(host);
    CHECK(ids(host) == std::vector<std::string>{"109400000000000402", "109400000000000403"});
    CHECK(server.requests().at(0).param("acct") == "acme");
    CHECK(host.kv()["account_id:" + server.url() + ":acme"] == "109300000000000100");
    poll(host);
    CHECK(server.requests().size() == 3); // no second lookup
    host.stop();
}

TEST_CASE("plugin: a 429 pauses polling for as long as X-RateLimit-Reset says", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/timelines/tag/veille", net::Response::json(200, payload("timeline_tag_veille.json")));
    net::Response limited = net::Response::json(429, payload("error_rate_limited.json"));
    limited.headers.emplace_back("X-RateLimit-Reset", "2099-01-01T00:00:00.000Z");
    server.queue(limited);
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"hashtags.0", "veille"}});
    host.start();
    poll(host);
    poll(host);
    CHECK(server.requests().size() == 1);
    CHECK(logged(host, RELAIS_LOG_WARN, "answered HTTP 429: Too many requests; polling pauses"));
    host.stop();
}

TEST_CASE("plugin: a delivery is POSTed with its fields and Idempotency-Key - the status id comes back", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/statuses", net::Response::json(200, payload("status_created.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"token", "tok"}, {"post_visibility", "unlisted"}});
    host.start();
    relais::Delivery d;
    d.rendered = "Hello from Relais";
    d.delivery_key = "key-1";
    d.reply_to = "109400000000000201";
    auto r = host.deliver(post("ignored"), d);
    REQUIRE(r.status == RELAIS_DELIVERED);
    CHECK(r.native_id == "109400000000000999");
    auto req = server.requests().at(0);
    CHECK(req.method == "POST");
    CHECK(req.header("authorization") == "Bearer tok");
    CHECK(req.header("idempotency-key") == "key-1");
    auto body = boost::json::parse(req.body).as_object();
    CHECK(body.at("status").as_string() == "Hello from Relais");
    CHECK(body.at("visibility").as_string() == "unlisted");
    CHECK(body.at("language").as_string() == "fr");
    CHECK(body.at("in_reply_to_id").as_string() == "109400000000000201");
    host.stop();
}

TEST_CASE("plugin: 429 is retried after the server's delay, 422 fails with its message, 5xx is retried", "[plugin]") {
    FakeServer server;
    net::Response limited = net::Response::json(429, payload("error_rate_limited.json"));
    limited.headers.emplace_back("Retry-After", "7");
    server.queue(limited);
    server.queue(net::Response::json(422, payload("error_validation.json")));
    server.queue(net::Response::json(502, "<html>Bad Gateway</html>"));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"token", "tok"}});
    host.start();
    auto r = host.deliver(post("x"));
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.retry_after_ms == 7000);
    r = host.deliver(post("x"));
    CHECK(r.status == RELAIS_FAILED);
    CHECK_THAT(r.error, Contains("HTTP 422: Validation failed: Text character limit of 500 exceeded"));
    r = host.deliver(post("x"));
    CHECK(r.status == RELAIS_RETRY);
    host.stop();
}

TEST_CASE("plugin: edits are PUT, deletes DELETEd and reactions favourite the status they name", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/statuses/555", net::Response::json(200, payload("status_created.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"token", "tok"}});
    host.start();
    relais::Message edit = post("corrected");
    edit.kind = relais::Kind::edit;
    relais::Delivery d;
    d.reply_to = "555";
    CHECK(host.deliver(edit, d).status == RELAIS_DELIVERED);
    relais::Message del = post("");
    del.kind = relais::Kind::remove;
    CHECK(host.deliver(del, d).status == RELAIS_DELIVERED);
    CHECK(host.deliver(del, relais::Delivery{}).status == RELAIS_FAILED); // nothing to delete
    relais::Message like = post("");
    like.kind = relais::Kind::reaction;
    server.route("/api/v1/statuses/555/favourite", net::Response::json(200, payload("status_created.json")));
    CHECK(host.deliver(like, d).status == RELAIS_DELIVERED);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[2].method == "POST");
    CHECK(reqs[2].path == "/api/v1/statuses/555/favourite");
    CHECK(reqs[0].method == "PUT");
    CHECK(boost::json::parse(reqs[0].body).at("status").as_string() == "corrected");
    CHECK(reqs[1].method == "DELETE");
    CHECK(reqs[1].path == "/api/v1/statuses/555");
    host.stop();
}

TEST_CASE("plugin: with skip_existing the first poll only notes where the timeline stands", "[plugin]") {
    FakeServer server;
    server.route("/api/v1/timelines/tag/veille", net::Response::json(200, payload("timeline_tag_veille.json")));
    FakeHost host(relais_plugin_entry(), {{"server", server.url()}, {"hashtags.0", "veille"}, {"skip_existing", "true"}});
    host.start();
    poll(host);
    CHECK(host.emitted().empty());
    CHECK(host.kv()["cursor:" + server.url() + ":tag:veille"] == "109400000000000303");
    CHECK(logged(host, RELAIS_LOG_INFO, "3 existing items left out"));
    host.stop();
}
