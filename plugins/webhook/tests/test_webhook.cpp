// webhook: the plugin through the real C ABI (FakeHost), with real HTTP on 127.0.0.1: http_request() posting to the
// plugin's receiver, and an HttpServer standing for the destination of deliveries.
#include "signature.hpp"

#include <relais/net/http.hpp>
#include <relais/testing/fake_host.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using namespace relais;
using relais::testing::FakeHost;
using Strings = std::vector<std::string>;

namespace {

// A started receiver on a free port.
struct Receiver {
    FakeHost host;
    std::string url;
    explicit Receiver(FakeHost::Config extra = {}, const std::string &path = "/hook")
        : host(relais_plugin_entry(), with_port(std::move(extra), path)) {
        host.start();
        url = "http://127.0.0.1:" + std::to_string(static_cast<int>(host.metric("listen_port"))) + path;
    }
    static FakeHost::Config with_port(FakeHost::Config c, const std::string &path) {
        c.emplace_back("port", "0");
        c.emplace_back("path", path);
        return c;
    }
    net::ClientResponse post(const std::string &body, std::vector<std::pair<std::string, std::string>> headers = {}) {
        net::ClientRequest req;
        req.method = "POST";
        req.url = url;
        req.body = body;
        req.headers = std::move(headers);
        req.headers.emplace_back("Content-Type", "application/json");
        req.timeout = std::chrono::seconds(5);
        return net::http_request(req);
    }
};

std::string error_of(const net::ClientResponse &res) {
    boost::system::error_code ec;
    auto v = boost::json::parse(res.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) return "(no JSON error in: " + res.body + ")";
    return std::string(v.as_object().at("error").as_string());
}

// The destination of deliveries: records each request and answers what the test says.
struct Sink {
    std::mutex mutex;
    std::vector<net::Request> seen;
    net::Response answer = net::Response::json(200, R"({"ok":true})");
    net::HttpServer server{{}, [this](const net::Request &r) {
                               std::lock_guard lock(mutex);
                               seen.push_back(r);
                               return answer;
                           }};
    Sink() { server.start(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()) + "/in/SECRET-PATH"; }
    void answer_with(net::Response r) {
        std::lock_guard lock(mutex);
        answer = std::move(r);
    }
    net::Request last() {
        std::lock_guard lock(mutex);
        REQUIRE(!seen.empty());
        return seen.back();
    }
    size_t count() {
        std::lock_guard lock(mutex);
        return seen.size();
    }
};

Message sample() {
    Message m;
    m.id = "01HXYZ";
    m.source = "rss";
    m.network = "rss";
    m.channel = "news";
    m.author = "Alice";
    m.author_id = "alice@acme.example";
    m.text = "Quarterly results #veille";
    m.tags = {"veille"};
    m.links = {"https://news.example/q3"};
    m.level = Level::public_;
    return m;
}

uint16_t closed_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// Config

TEST_CASE("webhook config: an instance must send, receive or both", "[webhook][config]") {
    try {
        FakeHost host(relais_plugin_entry(), {});
        FAIL("create should fail without url and port");
    } catch (const std::runtime_error &e) {
        std::string what = e.what();
        CHECK(what.find("url") != std::string::npos);
        CHECK(what.find("port") != std::string::npos);
    }
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"listen", "0.0.0.0"}}), Catch::Contains("port:"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"url", "ftp://x"}}), Catch::Contains("url:"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"url", "http://x"}, {"format", "xml"}}),
                      Catch::Contains("format:"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"port", "70000"}}), Catch::Contains("port:"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"port", "0"}, {"path", "hook"}}), Catch::Contains("path:"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"port", "0"}, {"secret", ""}}), Catch::Contains("secret:"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"url", "http://x"}, {"headers.Bad Name", "v"}}),
                      Catch::Contains("headers.Bad Name"));
    // Constructing opens nothing: a port in use only matters at start().
    FakeHost ok(relais_plugin_entry(), {{"url", "http://127.0.0.1:1/x"}, {"port", "0"}});
}

// ---------------------------------------------------------------------------------------------------------------
// In

TEST_CASE("webhook in: a JSON message is emitted, with tags, mentions and links from its text", "[webhook][in]") {
    Receiver r(FakeHost::Config{{"channel", "inbox"}});
    auto res = r.post(R"({"text": "Launch of #Produit-X by @marie — see https://acme.example/launch. #Veille",
                         "author": "Marie", "author_id": "marie@acme.example", "tags": ["press"],
                         "level": "internal", "native_id": "evt-1"})");
    INFO(res.body);
    REQUIRE(res.status == 202);
    CHECK(res.body == R"({"accepted":true})");
    auto emitted = r.host.emitted();
    REQUIRE(emitted.size() == 1);
    const Message &m = emitted[0];
    CHECK(m.text.rfind("Launch of", 0) == 0);
    CHECK(m.author == "Marie");
    CHECK(m.author_id == "marie@acme.example");
    CHECK(m.native_id == "evt-1");
    CHECK(m.channel == "inbox");
    CHECK(m.level == Level::internal);
    CHECK(m.tags == Strings{"press", "produit-x", "veille"});
    CHECK(m.mentions == Strings{"marie"});
    CHECK(m.links == Strings{"https://acme.example/launch"});
    CHECK(m.meta("remote").rfind("127.0.0.1:", 0) == 0);
    CHECK(m.network == "webhook");
    CHECK(r.host.metric("accepted") == 1);
}

TEST_CASE("webhook in: a Slack incoming-webhook payload is a message too", "[webhook][in]") {
    Receiver r;
    auto res = r.post(R"({"text": "Build <https://ci.example/b/42|#42> passed", "username": "ci-bot",
                         "channel": "#deploys", "icon_emoji": ":white_check_mark:"})");
    REQUIRE(res.status == 202);
    auto emitted = r.host.emitted();
    REQUIRE(emitted.size() == 1);
    CHECK(emitted[0].author == "ci-bot");
    CHECK(emitted[0].channel == "deploys");
    CHECK(emitted[0].links == Strings{"https://ci.example/b/42"});
}

TEST_CASE("webhook in: malformed bodies get 400 with a JSON error and nothing is emitted", "[webhook][in]") {
    Receiver r;
    auto res = r.post(R"({"text": "unterminated)");
    CHECK(res.status == 400);
    CHECK(error_of(res).find("not valid JSON") != std::string::npos);

    res = r.post("\"just a string\"");
    CHECK(res.status == 400);
    CHECK(error_of(res).find("JSON object") != std::string::npos);

    res = r.post("{\"text\": \"caf\xC3\x28\"}");
    CHECK(res.status == 400);
    CHECK(error_of(res).find("not valid UTF-8") != std::string::npos);

    res = r.post(R"({"username": "nobody"})");
    CHECK(res.status == 400);
    CHECK(error_of(res).find("missing \"text\"") != std::string::npos);

    res = r.post(R"({"text": "x", "level": "ultra"})");
    CHECK(res.status == 400);
    CHECK(error_of(res).find("level") != std::string::npos);

    CHECK(r.host.emitted().empty());
    CHECK(r.host.metric("refused_invalid") == 5);
}

TEST_CASE("webhook in: a body over max_body gets 413 and nothing is emitted", "[webhook][in]") {
    Receiver r(FakeHost::Config{{"max_body", "1000"}});
    auto res = r.post(R"({"text": ")" + std::string(5000, 'a') + R"("})");
    CHECK(res.status == 413);
    CHECK(error_of(res).find("1000") != std::string::npos);
    CHECK(r.host.emitted().empty());
    CHECK(r.post(R"({"text": "small"})").status == 202);
}

TEST_CASE("webhook in: with a secret, only correctly signed bodies are accepted", "[webhook][in][signature]") {
    Receiver r(FakeHost::Config{{"secret", "s3cret"}});
    std::string body = R"({"text": "signed #ok"})";

    auto res = r.post(body, {{"X-Relais-Signature", webhook::sign_body("s3cret", body)}});
    CHECK(res.status == 202);

    res = r.post(body, {{"X-Relais-Signature", webhook::sign_body("wrong", body)}});
    CHECK(res.status == 401);
    CHECK(error_of(res).find("does not match") != std::string::npos);

    res = r.post(body + " ", {{"X-Relais-Signature", webhook::sign_body("s3cret", body)}}); // body changed
    CHECK(res.status == 401);

    res = r.post(body);
    CHECK(res.status == 401);
    CHECK(error_of(res).find("missing X-Relais-Signature") != std::string::npos);

    // The signature is checked before the body is read as JSON.
    CHECK(r.post("not json").status == 401);

    REQUIRE(r.host.emitted().size() == 1);
    CHECK(r.host.emitted()[0].tags == Strings{"ok"});
    CHECK(r.host.metric("refused_auth") == 4);
}

TEST_CASE("webhook in: with a token, Authorization: Bearer is required", "[webhook][in]") {
    Receiver r(FakeHost::Config{{"token", "t0k"}});
    auto res = r.post(R"({"text": "x"})");
    CHECK(res.status == 401);
    CHECK(res.header("www-authenticate") == "Bearer");
    CHECK(r.post(R"({"text": "x"})", {{"Authorization", "Bearer nope"}}).status == 401);
    CHECK(r.post(R"({"text": "x"})", {{"Authorization", "Bearer t0k"}}).status == 202);
    CHECK(r.host.emitted().size() == 1);
}

TEST_CASE("webhook in: when the host refuses the message, 503 with Retry-After, and a retry gets it in",
          "[webhook][in]") {
    Receiver r;
    std::string body = R"({"text": "must not be lost", "id": "m-1"})";
    r.host.fail_emits(RELAIS_E_STORAGE);
    auto res = r.post(body);
    CHECK(res.status == 503);
    CHECK(res.header("retry-after") == "5");
    CHECK(error_of(res).find("send it again") != std::string::npos);
    CHECK(r.host.emitted().empty());
    CHECK(r.host.metric("emit_failed") == 1);

    r.host.fail_emits(RELAIS_OK); // the host is back; the sender retries as told
    CHECK(r.post(body).status == 202);
    auto emitted = r.host.emitted();
    REQUIRE(emitted.size() == 1);
    CHECK(emitted[0].native_id == "m-1");
}

TEST_CASE("webhook in: other paths are 404, other methods 405, after stop() nothing is received",
          "[webhook][in]") {
    Receiver r;
    net::ClientRequest req;
    req.method = "POST";
    req.url = r.url + "/elsewhere";
    req.body = R"({"text": "x"})";
    CHECK(net::http_request(req).status == 404);
    req.method = "GET";
    req.url = r.url;
    req.body.clear();
    auto res = net::http_request(req);
    CHECK(res.status == 405);
    CHECK(res.header("allow") == "POST");

    r.host.stop();
    res = r.post(R"({"text": "too late"})");
    CHECK(res.status == 0);
    CHECK(r.host.emitted().empty());
}

TEST_CASE("webhook in: a port already in use is a start error naming the address", "[webhook][in]") {
    Receiver first;
    std::string port = std::to_string(static_cast<int>(first.host.metric("listen_port")));
    FakeHost second(relais_plugin_entry(), {{"port", port}});
    CHECK_THROWS_WITH(second.start(), Catch::Contains("cannot listen on 127.0.0.1:" + port));
}

// ---------------------------------------------------------------------------------------------------------------
// Out

TEST_CASE("webhook out: json format posts the message, signed, with the idempotency key and headers",
          "[webhook][out]") {
    Sink sink;
    sink.answer_with(net::Response::json(201, R"({"id": "remote-77"})"));
    FakeHost host(relais_plugin_entry(),
                  {{"url", sink.url()}, {"secret", "out-secret"}, {"headers.X-Team", "veille"}});
    host.start();
    Delivery d;
    d.rendered = "Alice: Quarterly results";
    d.delivery_key = "dk-123";
    d.channel = "archive";
    auto result = host.deliver(sample(), d);
    INFO(result.error);
    CHECK(result.status == RELAIS_DELIVERED);
    CHECK(result.native_id == "remote-77");

    net::Request got = sink.last();
    CHECK(got.method == "POST");
    CHECK(got.path == "/in/SECRET-PATH");
    CHECK(got.header("content-type") == "application/json");
    CHECK(got.header("idempotency-key") == "dk-123");
    CHECK(got.header("x-team") == "veille");
    CHECK(webhook::signature_matches(got.header("x-relais-signature"), "out-secret", got.body));
    auto body = boost::json::parse(got.body).as_object();
    CHECK(body.at("id").as_string() == "01HXYZ");
    CHECK(body.at("text").as_string() == "Quarterly results #veille");
    CHECK(body.at("rendered").as_string() == "Alice: Quarterly results");
    CHECK(body.at("author").as_string() == "Alice");
    CHECK(body.at("level").as_string() == "public");
    CHECK(body.at("delivery").at("channel").as_string() == "archive");
    CHECK(host.metric("delivered") == 1);
}

TEST_CASE("webhook out: slack format posts text and username", "[webhook][out]") {
    Sink sink;
    sink.answer_with(net::Response::text(200, "ok")); // Slack answers a plain "ok": no id
    FakeHost host(relais_plugin_entry(), {{"url", sink.url()}, {"format", "slack"}});
    Delivery d;
    d.rendered = "*Alice*: Quarterly results";
    auto result = host.deliver(sample(), d);
    CHECK(result.status == RELAIS_DELIVERED);
    CHECK(result.native_id.empty());
    auto body = boost::json::parse(sink.last().body).as_object();
    CHECK(body.at("text").as_string() == "*Alice*: Quarterly results");
    CHECK(body.at("username").as_string() == "Alice");
    CHECK_FALSE(body.contains("channel"));
    CHECK(sink.last().header("x-relais-signature").empty()); // no secret, no signature
}

TEST_CASE("webhook out: 429 and 503 are retried after Retry-After, 500 retried, 400 and 308 failed",
          "[webhook][out]") {
    Sink sink;
    FakeHost host(relais_plugin_entry(), {{"url", sink.url()}});

    net::Response busy = net::Response::error(429, "slow down");
    busy.headers.emplace_back("Retry-After", "7");
    sink.answer_with(busy);
    auto result = host.deliver(sample());
    CHECK(result.status == RELAIS_RETRY);
    CHECK(result.retry_after_ms == 7000);
    CHECK(result.error.find("429") != std::string::npos);
    CHECK(result.error.find("SECRET-PATH") == std::string::npos); // the URL's path stays out of errors

    net::Response down = net::Response::error(503, "maintenance");
    down.headers.emplace_back("Retry-After", "120");
    sink.answer_with(down);
    result = host.deliver(sample());
    CHECK(result.status == RELAIS_RETRY);
    CHECK(result.retry_after_ms == 120'000);

    sink.answer_with(net::Response::error(500, "oops"));
    result = host.deliver(sample());
    CHECK(result.status == RELAIS_RETRY);
    CHECK(result.retry_after_ms == 0);
    CHECK(result.error.find("500") != std::string::npos);

    sink.answer_with(net::Response::error(400, "bad payload"));
    result = host.deliver(sample());
    CHECK(result.status == RELAIS_FAILED);
    CHECK(result.error.find("400") != std::string::npos);
    CHECK(result.error.find("bad payload") != std::string::npos);

    net::Response moved{308, "text/plain", "", {{"Location", "https://new.example/in/SECRET-PATH"}}};
    sink.answer_with(moved);
    result = host.deliver(sample());
    CHECK(result.status == RELAIS_FAILED);
    CHECK(result.error.find("308") != std::string::npos);
    CHECK(result.error.find("https://new.example") != std::string::npos);
    CHECK(result.error.find("SECRET-PATH") == std::string::npos);

    CHECK(sink.count() == 5); // one POST each: the redirect was not followed
    CHECK(host.metric("deliver_retry") == 3);
    CHECK(host.metric("deliver_failed") == 2);
}

TEST_CASE("webhook out: connection refused and timeouts are retried", "[webhook][out]") {
    FakeHost refused(relais_plugin_entry(),
                     {{"url", "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook"}});
    auto result = refused.deliver(sample());
    CHECK(result.status == RELAIS_RETRY);
    CHECK(result.error.find("cannot connect") != std::string::npos);

    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}); // never answers
    FakeHost slow(relais_plugin_entry(),
                  {{"url", "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/"},
                   {"timeout", "300ms"}});
    auto began = std::chrono::steady_clock::now();
    result = slow.deliver(sample());
    CHECK(result.status == RELAIS_RETRY);
    CHECK(result.error.find("timed out") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(3));
}

TEST_CASE("webhook out: an instance that only receives refuses deliveries", "[webhook][out]") {
    FakeHost host(relais_plugin_entry(), {{"port", "0"}});
    auto result = host.deliver(sample());
    CHECK(result.status == RELAIS_FAILED);
    CHECK(result.error.find("url") != std::string::npos);
}

TEST_CASE("webhook both ways: one instance's output feeds another's input, signed", "[webhook][in][out]") {
    Receiver in(FakeHost::Config{{"secret", "shared"}});
    FakeHost out(relais_plugin_entry(), {{"url", in.url}, {"secret", "shared"}, {"format", "slack"}});
    Delivery d;
    d.rendered = "relayed: Quarterly results #veille";
    auto result = out.deliver(sample(), d);
    INFO(result.error);
    CHECK(result.status == RELAIS_DELIVERED);
    auto emitted = in.host.emitted();
    REQUIRE(emitted.size() == 1);
    CHECK(emitted[0].text == "relayed: Quarterly results #veille");
    CHECK(emitted[0].author == "Alice");
    CHECK(emitted[0].tags == Strings{"veille"});
}
