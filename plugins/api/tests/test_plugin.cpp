// The api connector driven through the real ABI by FakeHost, with real HTTP, stream and WebSocket clients.
#include "clients.hpp"

#include <relais/testing/fake_host.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <thread>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using namespace api_test;
using relais::testing::FakeHost;
namespace json = boost::json;

namespace {

struct Api {
    FakeHost host;
    uint16_t port = 0;
    explicit Api(FakeHost::Config config = {}) : host(relais_plugin_entry(), std::move(config), "myapi") {
        host.start();
        port = static_cast<uint16_t>(host.metric("listen_port"));
        REQUIRE(port != 0);
    }
    HttpAnswer post(const std::string &body, const Headers &headers = {{"Content-Type", "application/json"}}) {
        return http_call(port, "POST", "/api/message", body, headers);
    }
    HttpAnswer get(const std::string &target, const Headers &headers = {}) {
        return http_call(port, "GET", target, {}, headers);
    }
    // Waits (bounded) until the plugin has emitted `n` messages.
    std::vector<relais::Message> wait_emitted(size_t n) {
        for (int i = 0; i < 500 && host.emitted().size() < n; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return host.emitted();
    }
};

relais::Message outgoing(int i) {
    relais::Message m;
    m.id = "01HX" + std::to_string(i);
    m.source = "rse";
    m.network = "xmpp";
    m.channel = "veille";
    m.author = "Alice";
    m.author_id = "alice@acme";
    m.text = "message " + std::to_string(i);
    m.created_at_ms = 1714557600000 + i;
    return m;
}

json::object parse_object(const std::string &text) { return json::parse(text).as_object(); }

} // namespace

TEST_CASE("POST /api/message emits the message and answers it as JSON", "[api][http]") {
    Api api;
    auto answer = api.post(R"({"text":"hello","username":"alice","userid":"u1","avatar":"https://a/x.png",
        "gateway":"main","channel":"general","parent_id":"p9","Extra":{"k":["v"]}})");
    REQUIRE(answer.status == 200);
    CHECK(answer.headers["content-type"].find("application/json") == 0);
    auto echo = parse_object(answer.body);
    CHECK(echo["text"] == "hello");
    CHECK(echo["username"] == "alice");
    CHECK(echo["account"] == "api.myapi");
    CHECK(echo["protocol"] == "api");
    CHECK(echo["channel"] == "general");
    CHECK(echo["gateway"] == "main");
    CHECK(echo["parent_id"] == "p9");
    CHECK(echo["timestamp"].as_string().size() > 20);

    auto emitted = api.host.emitted();
    REQUIRE(emitted.size() == 1);
    const auto &m = emitted[0];
    CHECK(m.text == "hello");
    CHECK(m.author == "alice");
    CHECK(m.author_id == "u1");
    CHECK(m.channel == "general");
    CHECK(m.kind == relais::Kind::reply);
    CHECK(m.reply_to == "p9");
    CHECK(m.native_id == std::string(echo["id"].as_string())); // generated, and given back to the client
    CHECK(m.native_id.rfind("api-", 0) == 0);
    CHECK(m.meta("avatar") == "https://a/x.png");
    CHECK(m.meta("account") == "api.myapi");
    CHECK(m.meta("gateway") == "main");
    CHECK(m.meta("extra") == R"({"k":["v"]})");
    CHECK(m.created_at_ms > 0);
    CHECK(api.host.metric("received") == 1);

    // A client-given id is kept as the native id.
    REQUIRE(api.post(R"({"text":"again","id":"client-7"})").status == 200);
    CHECK(api.host.emitted().at(1).native_id == "client-7");
}

TEST_CASE("a POST is answered once the host has stored its message, and other clients are served meanwhile",
          "[api][http]") {
    Api api;
    api.host.hold_emit_answers(true); // as the host does until its commit
    HttpAnswer first;
    std::thread poster([&] { first = api.post(R"({"text":"waits for the commit"})"); });
    for (int i = 0; i < 500 && api.host.held_emit_answers() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(api.host.held_emit_answers() == 1);
    // The one server thread is free: another client is answered while the first waits.
    CHECK(api.get("/api/health").status == 200);
    CHECK(first.status == 0);
    CHECK(api.host.answer_emits() == 1);
    poster.join();
    CHECK(first.status == 200);
    CHECK(parse_object(first.body)["text"] == "waits for the commit");
    CHECK(api.host.metric("received") == 1);

    // Refused when it comes: 503, and the sender is told to try again.
    api.host.hold_emit_answers(false);
    api.host.fail_emits(RELAIS_E_STORAGE);
    auto refused = api.post(R"({"text":"not stored"})");
    CHECK(refused.status == 503);
    CHECK(refused.headers["retry-after"] == "1");
}

TEST_CASE("with a host older than ABI 1.2 (no emit_async) a POST still waits for its message to be stored",
          "[api][http]") {
    Api api;
    api.host.offer_emit_async(false);
    auto answer = api.post(R"({"text":"through emit"})");
    CHECK(answer.status == 200);
    REQUIRE(api.host.emitted().size() == 1);
    CHECK(api.host.emitted()[0].text == "through emit");
    api.host.fail_emits(RELAIS_E_STOPPING);
    CHECK(api.post(R"({"text":"refused"})").status == 503);
}

TEST_CASE("GET /api/health answers OK", "[api][http]") {
    Api api;
    auto answer = api.get("/api/health");
    CHECK(answer.status == 200);
    CHECK(answer.body == "OK");
    CHECK(api.get("/api/nothing").status == 404);
    CHECK(http_call(api.port, "GET", "/api/message").status == 405);
    CHECK(http_call(api.port, "POST", "/api/messages", "{}").status == 405);
}

TEST_CASE("malformed posts get 400 and emit nothing", "[api][http]") {
    Api api;
    for (std::string body : {std::string("{\"text\": "), std::string("[\"text\"]"), std::string("\"hello\""),
                             std::string("{\"text\": \"caf\xC3\"}"), std::string("{\"username\": \"bob\"}"),
                             std::string("{\"text\": 3}"), std::string()}) {
        INFO("body: " << body);
        auto answer = api.post(body);
        CHECK(answer.status == 400);
        auto error = parse_object(answer.body);
        REQUIRE(error.contains("error"));
        CHECK(!error["error"].as_string().empty());
    }
    CHECK(api.host.emitted().empty());
    CHECK(api.host.metric("rejected") == 7);
}

TEST_CASE("a refused emit answers 503 and the client can send again", "[api][http]") {
    Api api;
    api.host.fail_emits(RELAIS_E_STORAGE);
    auto refused = api.post(R"({"text":"keep me","username":"alice"})");
    CHECK(refused.status == 503);
    CHECK(refused.headers["retry-after"] == "1");
    CHECK(parse_object(refused.body)["error"].as_string().size() > 0);
    CHECK(api.host.emitted().empty());
    CHECK(api.host.metric("refused") == 1);

    api.host.fail_emits(RELAIS_OK);
    CHECK(api.post(R"({"text":"keep me","username":"alice"})").status == 200);
    REQUIRE(api.host.emitted().size() == 1);
    CHECK(api.host.emitted()[0].text == "keep me");
}

TEST_CASE("a bearer token guards every endpoint", "[api][http][auth]") {
    Api api(FakeHost::Config{{"token", "s3cret"}});
    const Headers good = {{"Authorization", "Bearer s3cret"}, {"Content-Type", "application/json"}};

    auto none = api.post(R"({"text":"hi"})");
    CHECK(none.status == 401);
    CHECK(none.headers["www-authenticate"] == "Bearer");
    CHECK(api.post(R"({"text":"hi"})", {{"Authorization", "Bearer wrong"}}).status == 401);
    CHECK(api.post(R"({"text":"hi"})", {{"Authorization", "s3cret"}}).status == 401);
    CHECK(api.get("/api/messages").status == 401);
    CHECK(api.get("/api/health").status == 401);
    CHECK(api.host.emitted().empty());

    CHECK(api.post(R"({"text":"hi"})", good).status == 200);
    CHECK(api.post(R"({"text":"hi"})", {{"Authorization", "bearer s3cret"}}).status == 200);
    CHECK(api.get("/api/health", good).body == "OK");
    CHECK(api.host.emitted().size() == 2);

    // Streams: a wrong token gets an error line and the connection is closed; no greeting, no messages.
    StreamClient refused(api.port, "/api/stream", {{"Authorization", "Bearer wrong"}});
    auto line = refused.next_chunk();
    REQUIRE(line);
    CHECK(parse_object(*line).contains("error"));
    CHECK_FALSE(refused.next_chunk(2s));

    WsClient refused_ws(api.port, "/api/websocket");
    auto frame = refused_ws.next_frame();
    REQUIRE(frame);
    CHECK(parse_object(*frame).contains("error"));
    try {
        refused_ws.send(R"({"text":"sneaky"})"); // may fail: the server is hanging up
    } catch (const std::exception &) {
    }
    CHECK_FALSE(refused_ws.next_frame(2s));

    WsClient ws(api.port, "/api/websocket", {{"Authorization", "Bearer s3cret"}});
    auto greeting = ws.next_frame();
    REQUIRE(greeting);
    CHECK(parse_object(*greeting)["event"] == "api_connected");
    CHECK(api.host.emitted().size() == 2);
}

TEST_CASE("deliveries appear on GET /api/messages once, then it is empty", "[api][sink]") {
    Api api;
    CHECK(api.get("/api/messages").body == "[]");
    relais::Delivery d;
    d.rendered = "Alice on xmpp: message 1";
    d.reply_to = "01HW";
    auto result = api.host.deliver(outgoing(1), d);
    CHECK(result.status == RELAIS_DELIVERED);
    CHECK(result.native_id == "01HX1");

    auto answer = api.get("/api/messages");
    REQUIRE(answer.status == 200);
    auto list = json::parse(answer.body).as_array();
    REQUIRE(list.size() == 1);
    auto m = list[0].as_object();
    CHECK(m["text"] == "Alice on xmpp: message 1");
    CHECK(m["channel"] == "veille");
    CHECK(m["username"] == "Alice");
    CHECK(m["userid"] == "alice@acme");
    CHECK(m["account"] == "xmpp.rse");
    CHECK(m["protocol"] == "xmpp");
    CHECK(m["gateway"] == "myapi");
    CHECK(m["parent_id"] == "01HW");
    CHECK(m["id"] == "01HX1");
    CHECK(m["timestamp"] == "2024-05-01T10:00:00.001Z");
    CHECK(m["Extra"] == json::object{});

    CHECK(api.get("/api/messages").body == "[]");
}

TEST_CASE("a full buffer drops the oldest messages, counts them and warns once", "[api][sink]") {
    Api api(FakeHost::Config{{"buffer", "3"}});
    for (int i = 1; i <= 5; ++i) CHECK(api.host.deliver(outgoing(i)).status == RELAIS_DELIVERED);
    CHECK(api.host.metric("buffer_dropped") == 2);
    int warnings = 0;
    for (const auto &[level, text] : api.host.logs())
        if (level == RELAIS_LOG_WARN && text.find("buffer is full") != std::string::npos) ++warnings;
    CHECK(warnings == 1);
    auto list = json::parse(api.get("/api/messages").body).as_array();
    REQUIRE(list.size() == 3);
    CHECK(list[0].as_object()["id"] == "01HX3");
    CHECK(list[2].as_object()["id"] == "01HX5");
}

TEST_CASE("stream and WebSocket clients get the greeting, then every delivery in order", "[api][sink][stream]") {
    Api api;
    StreamClient stream(api.port, "/api/stream");
    REQUIRE(stream.status() == 200);
    CHECK(stream.header("content-type").find("application/json") == 0);
    WsClient ws(api.port, "/api/websocket");

    // The greeting comes first, and means the client is registered.
    auto first = stream.next_chunk();
    REQUIRE(first);
    CHECK(first->back() == '\n');
    CHECK(parse_object(*first)["event"] == "api_connected");
    auto hello = ws.next_frame();
    REQUIRE(hello);
    CHECK(parse_object(*hello)["event"] == "api_connected");

    constexpr int n = 200;
    for (int i = 0; i < n; ++i) REQUIRE(api.host.deliver(outgoing(i)).status == RELAIS_DELIVERED);

    for (int i = 0; i < n; ++i) {
        auto chunk = stream.next_chunk();
        REQUIRE(chunk);
        REQUIRE(chunk->back() == '\n'); // one JSON message per chunk, newline-terminated as Go writes it
        auto m = parse_object(*chunk);
        REQUIRE(m["id"] == json::value("01HX" + std::to_string(i)));
        REQUIRE(m["text"] == json::value("message " + std::to_string(i)));
    }
    for (int i = 0; i < n; ++i) {
        auto frame = ws.next_frame();
        REQUIRE(frame);
        REQUIRE(parse_object(*frame)["id"] == json::value("01HX" + std::to_string(i)));
    }
    auto buffered = json::parse(api.get("/api/messages").body).as_array();
    REQUIRE(buffered.size() == n);
    for (int i = 0; i < n; ++i) REQUIRE(buffered[i].as_object()["id"] == json::value("01HX" + std::to_string(i)));
    CHECK(api.host.metric("clients") == 2);
}

TEST_CASE("a WebSocket client posting a message gets it emitted", "[api][source][websocket]") {
    Api api;
    WsClient ws(api.port, "/api/websocket");
    REQUIRE(ws.next_frame()); // greeting
    ws.send(R"({"text":"from ws","username":"bob","userid":"b1","gateway":"main"})");
    auto emitted = api.wait_emitted(1);
    REQUIRE(emitted.size() == 1);
    CHECK(emitted[0].text == "from ws");
    CHECK(emitted[0].author == "bob");
    CHECK(emitted[0].author_id == "b1");
    CHECK(emitted[0].channel == "api");
    CHECK(emitted[0].meta("gateway") == "main");

    // A malformed frame is answered with an error frame; the connection stays usable.
    ws.send("not json");
    auto error = ws.next_frame();
    REQUIRE(error);
    CHECK(parse_object(*error).contains("error"));
    ws.send(R"({"text":"second"})");
    emitted = api.wait_emitted(2);
    REQUIRE(emitted.size() == 2);
    CHECK(emitted[1].text == "second");
}

TEST_CASE("deletions are skipped unless send_deletes is on", "[api][sink]") {
    relais::Message del = outgoing(1);
    del.kind = relais::Kind::remove;
    relais::Delivery d;
    d.reply_to = "01HX0";
    {
        Api api;
        CHECK(api.host.deliver(del, d).status == RELAIS_DELIVERED);
        CHECK(api.get("/api/messages").body == "[]");
        CHECK(api.host.metric("deletes_skipped") == 1);
    }
    {
        Api api(FakeHost::Config{{"send_deletes", "true"}});
        CHECK(api.host.deliver(del, d).status == RELAIS_DELIVERED);
        auto list = json::parse(api.get("/api/messages").body).as_array();
        REQUIRE(list.size() == 1);
        CHECK(list[0].as_object()["event"] == "msg_delete");
        CHECK(list[0].as_object()["id"] == "01HX0");
    }
}

TEST_CASE("stop closes the clients and the port", "[api][lifecycle]") {
    Api api;
    StreamClient stream(api.port, "/api/stream");
    REQUIRE(stream.next_chunk()); // greeting
    api.host.stop();
    CHECK_FALSE(stream.next_chunk(3s)); // the server ended the stream
    CHECK_THROWS(http_call(api.port, "GET", "/api/health", {}, {}, 1s));
}

TEST_CASE("bad config values are refused with the key's path", "[api][config]") {
    auto create_error = [](FakeHost::Config config) {
        try {
            FakeHost host(relais_plugin_entry(), std::move(config), "myapi");
        } catch (const std::exception &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(create_error({{"port", "70000"}}).find("port: must be between 0 and 65535") != std::string::npos);
    CHECK(create_error({{"buffer", "-1"}}).find("buffer: must be 0 or more") != std::string::npos);
    CHECK(create_error({{"token", ""}}).find("token: is empty") != std::string::npos);
    CHECK(create_error({{"port", "4242"}, {"account", "api.x"}}).empty()); // no socket opened by create
}
