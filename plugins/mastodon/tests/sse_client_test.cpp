// The streaming GET against relais_net's server: events as they come, a refusal's message, stop() from elsewhere.
#include "sse.hpp"
#include "sse_client.hpp"

#include <relais/net/http.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

using namespace relais::mastodon;
namespace net = relais::net;
using namespace std::chrono_literals;

namespace {

template <class Pred>
bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    return pred();
}

struct StreamServer {
    std::mutex mutex;
    std::shared_ptr<net::Stream> open;
    std::string auth;
    net::HttpServer server{{}, [](const net::Request &) {
                               return net::Response::json(401, R"({"error":"The access token is invalid"})");
                           }};
    StreamServer() {
        server.stream("/api/v1/streaming/hashtag", "text/event-stream",
                      {[this](std::shared_ptr<net::Stream> s) {
                           std::lock_guard lock(mutex);
                           auth = s->request().header("authorization");
                           open = std::move(s);
                       },
                       nullptr, nullptr});
        server.start();
    }
    std::shared_ptr<net::Stream> stream() {
        std::lock_guard lock(mutex);
        return open;
    }
    std::string url(const std::string &path) { return "http://127.0.0.1:" + std::to_string(server.port()) + path; }
};

} // namespace

TEST_CASE("sse client: events arrive as they are sent - stop() ends the stream from another thread", "[sse]") {
    StreamServer server;
    SseClient client;
    SseRequest request;
    request.url = server.url("/api/v1/streaming/hashtag?tag=veille");
    request.headers.emplace_back("Authorization", "Bearer tok");
    std::atomic<bool> opened{false}, ended{false};
    std::mutex mutex;
    std::vector<SseEvent> events;
    SseEnd end;
    std::thread reader([&] {
        SseParser parser;
        end = client.run(
            request, [&] { opened = true; },
            [&](std::string_view bytes) {
                std::lock_guard lock(mutex);
                for (auto &e : parser.feed(bytes)) events.push_back(e);
            });
        ended = true;
    });
    REQUIRE(eventually([&] { return opened && server.stream(); }));
    CHECK(server.auth == "Bearer tok");
    server.stream()->send("event: update\ndata: {\"id\":");
    server.stream()->send("\"1\"}\n\n:thump\n");
    CHECK(eventually([&] {
        std::lock_guard lock(mutex);
        return events.size() == 1;
    }));
    CHECK(events[0].data == "{\"id\":\"1\"}");
    auto before_stop = std::chrono::steady_clock::now();
    client.stop();
    reader.join();
    CHECK(std::chrono::steady_clock::now() - before_stop < 2s);
    CHECK(end.error.empty());
    CHECK(ended);
    CHECK(client.run(request, [] {}, [](std::string_view) {}).error.empty()); // stopped for good: returns at once
}

TEST_CASE("sse client: a refused stream gives its status and the server's message", "[sse]") {
    StreamServer server;
    SseClient client;
    SseRequest request;
    request.url = server.url("/api/v1/streaming/user");
    bool opened = false;
    SseEnd end = client.run(request, [&] { opened = true; }, [](std::string_view) {});
    CHECK_FALSE(opened);
    CHECK(end.status == 401);
    CHECK(end.body.find("The access token is invalid") != std::string::npos);
}

TEST_CASE("sse client: a stream the server closes, or a server that is not there, ends with why", "[sse]") {
    SseRequest request;
    {
        StreamServer server;
        request.url = server.url("/api/v1/streaming/hashtag?tag=x");
        SseClient client;
        SseEnd end;
        std::thread reader([&] { end = client.run(request, [] {}, [](std::string_view) {}); });
        REQUIRE(eventually([&] { return server.stream() != nullptr; }));
        server.stream()->close();
        reader.join();
        CHECK(end.error == "the server ended the stream");
    }
    SseClient client; // the server is gone now: nothing listens on its port
    SseEnd end = client.run(request, [] {}, [](std::string_view) {});
    CHECK(end.error.find("cannot connect") != std::string::npos);
}
