// WebSockets and chunked streams of HttpServer, read by real clients: Beast's WebSocket client and http_request().
#include <relais/net/http.hpp>

#include "waiter.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace relais::net;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

struct WsClient {
    asio::io_context ioc;
    websocket::stream<tcp::socket> ws{ioc};

    void connect(uint16_t port, const std::string &target) {
        ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        ws.handshake("127.0.0.1:" + std::to_string(port), target);
    }
    std::string read() {
        beast::flat_buffer buffer;
        ws.read(buffer);
        return beast::buffers_to_string(buffer.data());
    }
};

} // namespace

TEST_CASE("websocket: on_open, echo through on_message, on_close when the client leaves", "[net][websocket]") {
    relais::test::Waiter w;
    int opened = 0, closed = 0;
    bool open_in_on_close = true;
    std::string token;
    HttpServer server({}, [](const Request &) { return Response::error(404, "not here"); });
    server.websocket("/ws", {[&](std::shared_ptr<Stream> s) {
                                 w.update([&] {
                                     ++opened;
                                     token = s->request().param("token");
                                 });
                                 s->send("welcome");
                             },
                             [&](std::shared_ptr<Stream> s, std::string text) { s->send("echo: " + text); },
                             [&](std::shared_ptr<Stream> s) {
                                 w.update([&] {
                                     ++closed;
                                     open_in_on_close = s->open();
                                 });
                             }});
    server.start();

    {
        WsClient client;
        client.connect(server.port(), "/ws?token=abc");
        CHECK(client.read() == "welcome");
        client.ws.write(asio::buffer(std::string("hello")));
        CHECK(client.read() == "echo: hello");
        client.ws.write(asio::buffer(std::string("again")));
        CHECK(client.read() == "echo: again");
        client.ws.close(websocket::close_code::normal);
    }
    REQUIRE(w.wait([&] { return closed == 1; }));
    CHECK(opened == 1);
    CHECK(token == "abc");
    CHECK_FALSE(open_in_on_close);
}

TEST_CASE("websocket: sends from many threads arrive, each thread's in order", "[net][websocket]") {
    relais::test::Waiter w;
    std::shared_ptr<Stream> stream;
    HttpServer::Options o;
    o.threads = 2;
    HttpServer server(o, nullptr);
    server.websocket("/ws", {[&](std::shared_ptr<Stream> s) { w.update([&] { stream = s; }); }, nullptr, nullptr});
    server.start();

    WsClient client;
    client.connect(server.port(), "/ws");
    REQUIRE(w.wait([&] { return stream != nullptr; }));
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; i < 250; ++i) stream->send(std::to_string(t) + ":" + std::to_string(i));
        });
    for (auto &s : senders) s.join();
    std::vector<int> next(4, 0);
    for (int n = 0; n < 1000; ++n) {
        std::string m = client.read();
        int t = std::stoi(m.substr(0, 1));
        REQUIRE(std::stoi(m.substr(2)) == next[t]);
        ++next[t];
    }
    CHECK(next == std::vector<int>{250, 250, 250, 250});
}

TEST_CASE("websocket: Stream::close() ends the connection after what was queued", "[net][websocket]") {
    HttpServer server({}, nullptr);
    server.websocket("/ws", {[&](std::shared_ptr<Stream> s) {
                                 s->send("one");
                                 s->send("two");
                                 s->close();
                                 s->send("ignored after close");
                             },
                             nullptr, nullptr});
    server.start();
    WsClient client;
    client.connect(server.port(), "/ws");
    CHECK(client.read() == "one");
    CHECK(client.read() == "two");
    beast::flat_buffer buffer;
    beast::error_code ec;
    client.ws.read(buffer, ec);
    CHECK(ec == websocket::error::closed);
    CHECK(client.ws.reason().code == websocket::close_code::normal);
}

TEST_CASE("websocket: a plain GET on a websocket path gets 426, unknown paths refuse the upgrade",
          "[net][websocket]") {
    HttpServer server({}, [](const Request &) { return Response::error(404, "nothing"); });
    server.websocket("/ws", {});
    server.start();
    ClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/ws";
    CHECK(http_request(req).status == 426);

    WsClient client;
    client.ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    websocket::response_type res;
    beast::error_code ec;
    client.ws.handshake(res, "127.0.0.1", "/elsewhere", ec);
    CHECK(ec);
    CHECK(res.result_int() == 404);
}

TEST_CASE("websocket: stop() closes open sockets, calls on_close, and returns", "[net][websocket]") {
    relais::test::Waiter w;
    bool opened = false, closed = false;
    auto server = std::make_unique<HttpServer>(HttpServer::Options{}, nullptr);
    std::shared_ptr<Stream> kept;
    server->websocket("/ws", {[&](std::shared_ptr<Stream> s) { w.update([&] { opened = true; kept = s; }); },
                              nullptr, [&](std::shared_ptr<Stream>) { w.update([&] { closed = true; }); }});
    server->start();
    WsClient client;
    client.connect(server->port(), "/ws");
    REQUIRE(w.wait([&] { return opened; }));
    // The client reads on its own thread so it answers the server's close frame.
    std::thread reader([&] {
        beast::flat_buffer buffer;
        beast::error_code ec;
        client.ws.read(buffer, ec);
    });
    auto began = std::chrono::steady_clock::now();
    server->stop();
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(3));
    reader.join();
    CHECK(closed);
    server.reset();
    CHECK_FALSE(kept->open());
    kept->send("after the server is gone: ignored, no crash");
}

TEST_CASE("chunked stream: each send is a chunk, close() ends the response", "[net][stream]") {
    relais::test::Waiter w;
    std::shared_ptr<Stream> stream;
    bool closed = false;
    HttpServer server({}, nullptr);
    server.stream("/events", "text/event-stream",
                  {[&](std::shared_ptr<Stream> s) { w.update([&] { stream = s; }); }, nullptr,
                   [&](std::shared_ptr<Stream>) { w.update([&] { closed = true; }); }});
    server.start();

    ClientResponse res;
    std::thread reader([&] {
        ClientRequest req;
        req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/events?since=3";
        res = http_request(req);
    });
    REQUIRE(w.wait([&] { return stream != nullptr; }));
    CHECK(stream->request().param("since") == "3");
    CHECK(stream->open());
    stream->send("data: one\n\n");
    stream->send("");
    stream->send("data: two\n\n");
    stream->close();
    reader.join();
    REQUIRE(res.error.empty());
    CHECK(res.status == 200);
    CHECK(res.header("content-type") == "text/event-stream");
    CHECK(res.header("transfer-encoding") == "chunked");
    CHECK(res.body == "data: one\n\ndata: two\n\n");
    REQUIRE(w.wait([&] { return closed; }));
}

TEST_CASE("chunked stream: chunks arrive as they are sent, a client that leaves is noticed", "[net][stream]") {
    relais::test::Waiter w;
    std::shared_ptr<Stream> stream;
    bool closed = false;
    HttpServer server({}, nullptr);
    server.stream("/events", "text/plain",
                  {[&](std::shared_ptr<Stream> s) { w.update([&] { stream = s; }); }, nullptr,
                   [&](std::shared_ptr<Stream>) { w.update([&] { closed = true; }); }});
    server.start();
    {
        asio::io_context ioc;
        tcp::socket socket(ioc);
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
        asio::write(socket, asio::buffer(std::string("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")));
        std::string in;
        asio::read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n");
        REQUIRE(w.wait([&] { return stream != nullptr; }));
        stream->send("first");
        asio::read_until(socket, asio::dynamic_buffer(in), "first\r\n"); // arrives before any close
        CHECK(in.find("5\r\nfirst\r\n") != std::string::npos);
    } // the client disconnects
    REQUIRE(w.wait([&] { return closed; }));
    CHECK_FALSE(stream->open());
    stream->send("nobody listens: ignored");
}
