// HttpServer and http_request() against each other on 127.0.0.1, plus raw sockets where the client would hide
// what the server does (keep-alive, malformed requests), and parse_retry_after().
#include <relais/net/http.hpp>

#include "waiter.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace relais::net;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string base_url(const HttpServer &server) { return "http://127.0.0.1:" + std::to_string(server.port()); }

ClientResponse get(const std::string &url) {
    ClientRequest req;
    req.url = url;
    req.timeout = std::chrono::seconds(5);
    return http_request(req);
}

std::string json_error(const std::string &body) {
    auto v = boost::json::parse(body);
    return std::string(v.as_object().at("error").as_string());
}

// Sends raw bytes on one connection and reads until `responses` complete HTTP responses (sized by their
// Content-Length) came back, or the server closed. Returns everything read.
std::string raw_exchange(uint16_t port, const std::string &bytes, int responses = 1) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(socket, asio::buffer(bytes));
    std::string in;
    boost::system::error_code ec;
    auto read_more = [&] {
        char buf[4096];
        size_t n = socket.read_some(asio::buffer(buf), ec);
        in.append(buf, n);
        return !ec;
    };
    size_t pos = 0;
    for (int i = 0; i < responses; ++i) {
        size_t header_end;
        while ((header_end = in.find("\r\n\r\n", pos)) == std::string::npos)
            if (!read_more()) return in;
        header_end += 4;
        auto cl = in.find("Content-Length: ", pos);
        size_t length = cl == std::string::npos || cl > header_end ? 0 : std::stoul(in.substr(cl + 16));
        while (in.size() < header_end + length)
            if (!read_more()) return in;
        pos = header_end + length;
    }
    return in;
}

} // namespace

TEST_CASE("server and client: a request goes through with its path, query, headers and body", "[net][http]") {
    Request seen;
    HttpServer server({}, [&](const Request &r) {
        seen = r;
        Response res = Response::json(201, R"({"ok":true})");
        res.headers.emplace_back("X-Answer", "42");
        return res;
    });
    server.start();
    REQUIRE(server.port() != 0);

    ClientRequest req;
    req.method = "POST";
    req.url = base_url(server) + "/hooks/a%20b?x=1&y=hello+world&z=%C3%A9";
    req.headers = {{"Content-Type", "application/json"}, {"X-Custom", "yes"}};
    req.body = R"({"text":"hi"})";
    ClientResponse res = http_request(req);

    REQUIRE(res.error.empty());
    CHECK(res.status == 201);
    CHECK(res.ok());
    CHECK(res.body == R"({"ok":true})");
    CHECK(res.header("x-answer") == "42");
    CHECK(res.header("content-type") == "application/json");
    CHECK(seen.method == "POST");
    CHECK(seen.path == "/hooks/a b");
    CHECK(seen.target == "/hooks/a%20b?x=1&y=hello+world&z=%C3%A9");
    CHECK(seen.param("x") == "1");
    CHECK(seen.param("y") == "hello world");
    CHECK(seen.param("z") == "\xC3\xA9");
    CHECK(seen.param("missing").empty());
    CHECK(seen.header("x-custom") == "yes");
    CHECK(seen.header("content-type") == "application/json");
    CHECK(seen.body == R"({"text":"hi"})");
    CHECK(seen.remote.rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("server: several threads answer concurrent requests", "[net][http]") {
    HttpServer::Options o;
    o.threads = 4;
    HttpServer server(o, [](const Request &r) { return Response::text(200, r.param("n")); });
    server.start();
    std::vector<std::thread> clients;
    std::vector<std::string> bodies(16);
    for (int i = 0; i < 16; ++i)
        clients.emplace_back([&, i] { bodies[i] = get(base_url(server) + "/?n=" + std::to_string(i)).body; });
    for (auto &t : clients) t.join();
    for (int i = 0; i < 16; ++i) CHECK(bodies[i] == std::to_string(i));
}

TEST_CASE("server: an asynchronous handler answers later from another thread while one thread serves others",
          "[net][http]") {
    // One server thread. The first request is answered only once the second has come in: had the first held the
    // thread, the second could never be read, and the first would never be answered.
    std::mutex mutex;
    std::vector<HttpServer::Reply> waiting;
    std::vector<std::thread> answerers;
    HttpServer server(HttpServer::Options{}, [&](const Request &, HttpServer::Reply reply) {
        std::lock_guard lock(mutex);
        waiting.push_back(std::move(reply));
        if (waiting.size() < 2) return;
        for (size_t i = 0; i < waiting.size(); ++i)
            answerers.emplace_back([reply = waiting[i], i] {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                reply(Response::text(200, "answer " + std::to_string(i)));
                reply(Response::text(500, "a second answer is ignored"));
            });
    });
    server.start();
    std::string first, second;
    std::thread a([&] { first = get(base_url(server) + "/a").body; });
    std::thread b([&] { second = get(base_url(server) + "/b").body; });
    a.join();
    b.join();
    for (auto &t : answerers) t.join();
    CHECK(((first == "answer 0" && second == "answer 1") || (first == "answer 1" && second == "answer 0")));

}

TEST_CASE("server: on a kept-alive connection an asynchronous answer comes before the next request's",
          "[net][http]") {
    std::mutex mutex;
    std::vector<std::thread> answerers;
    HttpServer server(HttpServer::Options{}, [&](const Request &r, HttpServer::Reply reply) {
        std::lock_guard lock(mutex);
        // The first answer is the slowest: were the second request read before, its answer would come first.
        auto delay = std::chrono::milliseconds(r.path == "/one" ? 50 : 0);
        answerers.emplace_back([reply = std::move(reply), delay, path = r.path] {
            std::this_thread::sleep_for(delay);
            reply(Response::text(200, path));
        });
    });
    server.start();
    std::string out = raw_exchange(server.port(),
                                   "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n", 2);
    {
        std::lock_guard lock(mutex);
        for (auto &t : answerers) t.join();
    }
    auto one = out.find("\r\n\r\n/one"), two = out.find("\r\n\r\n/two");
    REQUIRE(one != std::string::npos);
    REQUIRE(two != std::string::npos);
    CHECK(one < two);
}

TEST_CASE("server: an asynchronous handler that throws before replying gives 500", "[net][http]") {
    std::vector<std::string> logged;
    HttpServer::Options o;
    o.log_error = [&](const std::string &text) { logged.push_back(text); };
    HttpServer server(o, [](const Request &, HttpServer::Reply) -> void { throw std::runtime_error("boom"); });
    server.start();
    auto res = get(base_url(server) + "/x");
    CHECK(res.status == 500);
    REQUIRE(logged.size() == 1);
    CHECK(logged[0].find("boom") != std::string::npos);
}

TEST_CASE("server: HTTP/1.1 keep-alive answers several requests on one connection", "[net][http]") {
    std::vector<std::string> remotes;
    std::mutex mutex;
    HttpServer server({}, [&](const Request &r) {
        std::lock_guard lock(mutex);
        remotes.push_back(r.remote);
        return Response::text(200, r.path);
    });
    server.start();
    std::string out = raw_exchange(server.port(),
                                   "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n", 2);
    CHECK(out.find("HTTP/1.1 200 OK") != std::string::npos);
    CHECK(out.find("\r\n\r\n/one") != std::string::npos);
    CHECK(out.find("\r\n\r\n/two") != std::string::npos);
    std::lock_guard lock(mutex);
    REQUIRE(remotes.size() == 2);
    CHECK(remotes[0] == remotes[1]); // the same client port: the same connection
}

TEST_CASE("server: a body over the limit gets 413 with a JSON error, and the handler is not called", "[net][http]") {
    HttpServer::Options o;
    o.max_body_bytes = 1024;
    int calls = 0;
    HttpServer server(o, [&](const Request &) {
        ++calls;
        return Response::text(200, "ok");
    });
    server.start();

    ClientRequest req;
    req.method = "POST";
    req.url = base_url(server) + "/";
    req.body = std::string(200'000, 'x');
    ClientResponse res = http_request(req);
    INFO(res.error);
    REQUIRE(res.error.empty());
    CHECK(res.status == 413);
    CHECK(json_error(res.body).find("1024") != std::string::npos);

    req.body = std::string(1024, 'x'); // exactly the limit passes
    CHECK(http_request(req).status == 200);
    CHECK(calls == 1);

    // A chunked body has no Content-Length: the limit applies while reading it.
    std::string chunk(800, 'y');
    char size[16];
    std::snprintf(size, sizeof size, "%zx", chunk.size());
    std::string raw = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) raw += std::string(size) + "\r\n" + chunk + "\r\n";
    raw += "0\r\n\r\n";
    CHECK(raw_exchange(server.port(), raw).rfind("HTTP/1.1 413", 0) == 0);
    CHECK(calls == 1);
}

TEST_CASE("server: Expect 100-continue gets 100 then the answer, or 413 at once", "[net][http]") {
    HttpServer::Options o;
    o.max_body_bytes = 100;
    HttpServer server(o, [](const Request &r) { return Response::text(200, r.body); });
    server.start();
    std::string big = raw_exchange(server.port(),
                                   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    CHECK(big.rfind("HTTP/1.1 413", 0) == 0);

    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    asio::write(socket, asio::buffer(std::string(
                            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")));
    std::string in;
    asio::read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n");
    CHECK(in.rfind("HTTP/1.1 100 Continue", 0) == 0);
    in.clear();
    asio::write(socket, asio::buffer(std::string("hello")));
    asio::read_until(socket, asio::dynamic_buffer(in), "hello");
    CHECK(in.rfind("HTTP/1.1 200 OK", 0) == 0);
}

TEST_CASE("server: the handler's 404 passes through, no handler answers 404", "[net][http]") {
    HttpServer server({}, [](const Request &r) {
        if (r.path == "/here") return Response::text(200, "yes");
        return Response::error(404, "no such page: " + r.path);
    });
    server.start();
    CHECK(get(base_url(server) + "/here").status == 200);
    auto res = get(base_url(server) + "/nowhere");
    CHECK(res.status == 404);
    CHECK(json_error(res.body) == "no such page: /nowhere");

    HttpServer empty({}, nullptr);
    empty.start();
    CHECK(get(base_url(empty) + "/x").status == 404);
}

TEST_CASE("server: a handler that throws gives 500 with a JSON error, is logged, and the server goes on",
          "[net][http]") {
    std::vector<std::string> logged;
    std::mutex mutex;
    HttpServer::Options o;
    o.log_error = [&](const std::string &text) {
        std::lock_guard lock(mutex);
        logged.push_back(text);
    };
    HttpServer server(o, [](const Request &r) -> Response {
        if (r.path == "/boom") throw std::runtime_error("kaboom");
        if (r.path == "/weird") throw 42;
        return Response::text(200, "fine");
    });
    server.start();
    auto res = get(base_url(server) + "/boom");
    CHECK(res.status == 500);
    CHECK(json_error(res.body) == "internal server error");
    CHECK(get(base_url(server) + "/weird").status == 500);
    CHECK(get(base_url(server) + "/ok").body == "fine");
    std::lock_guard lock(mutex);
    REQUIRE(logged.size() == 2);
    CHECK(logged[0].find("kaboom") != std::string::npos);
    CHECK(logged[0].find("/boom") != std::string::npos);
}

TEST_CASE("server: a malformed request gets 400 and the connection is closed", "[net][http]") {
    HttpServer server({}, [](const Request &) { return Response::text(200, "ok"); });
    server.start();
    CHECK(raw_exchange(server.port(), "NOT HTTP AT ALL\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
    CHECK(raw_exchange(server.port(), "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("server: HEAD gets the headers without the body", "[net][http]") {
    HttpServer server({}, [](const Request &) { return Response::text(200, "twelve bytes"); });
    server.start();
    std::string out = raw_exchange(server.port(), "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(out.find("Content-Length: 12") != std::string::npos);
    CHECK(out.find("twelve") == std::string::npos);

    ClientRequest req;
    req.method = "HEAD";
    req.url = base_url(server) + "/";
    auto res = http_request(req);
    REQUIRE(res.error.empty());
    CHECK(res.status == 200);
    CHECK(res.body.empty());
}

TEST_CASE("server: an idle kept-alive connection is closed after the read timeout", "[net][http]") {
    HttpServer::Options o;
    o.read_timeout = std::chrono::milliseconds(200);
    HttpServer server(o, [](const Request &) { return Response::text(200, "ok"); });
    server.start();
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    auto began = std::chrono::steady_clock::now();
    char buf[16];
    boost::system::error_code ec;
    socket.read_some(asio::buffer(buf), ec); // the server sends nothing and closes
    CHECK(ec == asio::error::eof);
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(3));
}

TEST_CASE("server: start() on a port in use throws, naming the address", "[net][http]") {
    HttpServer first({}, nullptr);
    first.start();
    HttpServer::Options o;
    o.port = first.port();
    HttpServer second(o, nullptr);
    try {
        second.start();
        FAIL("start() should have thrown");
    } catch (const std::runtime_error &e) {
        CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
    }
}

TEST_CASE("Response::error escapes the message as JSON", "[net][http]") {
    auto r = Response::error(400, "bad \"quote\" \\ and\nnewline");
    CHECK(r.status == 400);
    CHECK(r.content_type == "application/json");
    CHECK(json_error(r.body) == "bad \"quote\" \\ and\nnewline");
}

TEST_CASE("client: a server that never answers times out within the timeout", "[net][client]") {
    asio::io_context ioc;
    tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)); // listens, never accepts
    ClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
    req.timeout = std::chrono::milliseconds(300);
    auto began = std::chrono::steady_clock::now();
    auto res = http_request(req);
    auto took = std::chrono::steady_clock::now() - began;
    CHECK(res.status == 0);
    CHECK(res.error.find("timed out") != std::string::npos);
    CHECK(took >= std::chrono::milliseconds(250));
    CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("client: connection refused and bad URLs are errors, not exceptions", "[net][client]") {
    uint16_t port;
    {
        asio::io_context ioc;
        tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }
    auto res = get("http://127.0.0.1:" + std::to_string(port) + "/");
    CHECK(res.status == 0);
    CHECK(res.error.find("cannot connect") != std::string::npos);
    CHECK(get("ftp://example.com/").error.find("scheme") != std::string::npos);
    CHECK(get("not a url").error.find("not a valid URL") != std::string::npos);
    CHECK_FALSE(get("http://").error.empty());
}

TEST_CASE("client: follows redirects up to max_redirects", "[net][client]") {
    std::vector<std::string> seen;
    std::mutex mutex;
    HttpServer server({}, [&](const Request &r) {
        {
            std::lock_guard lock(mutex);
            seen.push_back(r.method + " " + r.path + " " + r.body + " auth=" + r.header("authorization"));
        }
        Response res = Response::text(200, "arrived at " + r.path);
        if (r.path == "/old") res = {302, "text/plain", "", {{"Location", "/new?x=1"}}};
        else if (r.path == "/see-other") res = {303, "text/plain", "", {{"Location", "/new"}}};
        else if (r.path == "/temporary") res = {307, "text/plain", "", {{"Location", "new"}}};
        else if (r.path == "/loop") res = {301, "text/plain", "", {{"Location", "/loop"}}};
        return res;
    });
    server.start();
    std::string base = base_url(server);

    auto res = get(base + "/old");
    REQUIRE(res.error.empty());
    CHECK(res.status == 200);
    CHECK(res.body == "arrived at /new");

    ClientRequest post;
    post.method = "POST";
    post.url = base + "/see-other";
    post.body = "payload";
    post.headers = {{"Authorization", "Bearer t"}};
    res = http_request(post);
    CHECK(res.status == 200);
    post.url = base + "/temporary";
    res = http_request(post);
    CHECK(res.status == 200);
    {
        std::lock_guard lock(mutex);
        REQUIRE(seen.size() == 6);
        CHECK(seen[3] == "GET /new  auth=Bearer t");        // 303: GET without the body, same origin keeps auth
        CHECK(seen[5] == "POST /new payload auth=Bearer t"); // 307: same method and body
    }

    res = get(base + "/loop");
    CHECK(res.status == 301);
    CHECK(res.error.find("stopped after 3 redirects") != std::string::npos);

    ClientRequest none;
    none.url = base + "/old";
    none.max_redirects = 0;
    res = http_request(none);
    CHECK(res.status == 302);
    CHECK(res.header("location") == "/new?x=1");
}

TEST_CASE("client: a response body over max_body_bytes is an error", "[net][client]") {
    HttpServer server({}, [](const Request &) { return Response::text(200, std::string(10'000, 'z')); });
    server.start();
    ClientRequest req;
    req.url = base_url(server) + "/";
    req.max_body_bytes = 1000;
    auto res = http_request(req);
    CHECK(res.status == 0);
    CHECK(res.error.find("larger than 1000 bytes") != std::string::npos);
    req.max_body_bytes = 10'000;
    CHECK(http_request(req).body.size() == 10'000);
}

TEST_CASE("HttpClient keeps the connection alive between requests, http_request does not", "[net][client]") {
    std::mutex mutex;
    std::vector<std::string> remotes;
    HttpServer server({}, [&](const Request &r) {
        std::lock_guard lock(mutex);
        remotes.push_back(r.remote);
        return Response::text(200, r.body);
    });
    server.start();
    HttpClient client;
    for (int i = 0; i < 3; ++i) {
        ClientRequest req;
        req.method = "POST";
        req.url = base_url(server) + "/hook";
        req.body = "n" + std::to_string(i);
        auto res = client.request(req);
        CHECK(res.status == 200);
        CHECK(res.body == req.body);
    }
    for (int i = 0; i < 2; ++i) CHECK(get(base_url(server) + "/").status == 200);
    std::lock_guard lock(mutex);
    REQUIRE(remotes.size() == 5);
    CHECK(remotes[0] == remotes[1]); // one connection for the client's three
    CHECK(remotes[1] == remotes[2]);
    CHECK(remotes[3] != remotes[4]); // a new one each for http_request
}

TEST_CASE("HttpClient: a kept connection the server closed is not used, the request goes on a new one",
          "[net][client]") {
    HttpServer::Options o;
    o.read_timeout = std::chrono::milliseconds(100); // the server closes idle connections after 100 ms
    HttpServer server(o, [](const Request &r) { return Response::text(200, r.remote); });
    server.start();
    HttpClient client;
    ClientRequest req;
    req.url = base_url(server) + "/";
    auto first = client.request(req);
    REQUIRE(first.status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto second = client.request(req);
    REQUIRE(second.status == 200);
    CHECK(second.body != first.body); // another client port: another connection
}

TEST_CASE("HttpClient: a request the server drops unanswered on a kept connection goes once more anew",
          "[net][client]") {
    // A raw server: on its first connection it answers one request (keep-alive) and then closes as the second
    // request arrives, unanswered; on its second connection it answers. The client must end with the answer.
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    int requests_seen = 0;
    std::thread raw([&] {
        auto read_request = [](tcp::socket &s) {
            std::string buf;
            boost::system::error_code ec;
            asio::read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", ec);
            return !ec;
        };
        const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
        tcp::socket first(ioc);
        acceptor.accept(first);
        if (read_request(first)) {
            ++requests_seen;
            asio::write(first, asio::buffer(ok));
        }
        if (read_request(first)) ++requests_seen; // and no answer:
        first.close();
        tcp::socket second(ioc);
        acceptor.accept(second);
        if (read_request(second)) {
            ++requests_seen;
            asio::write(second, asio::buffer(ok));
        }
    });
    HttpClient client;
    ClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
    CHECK(client.request(req).status == 200);
    auto again = client.request(req);
    raw.join();
    CHECK(again.status == 200);
    CHECK(again.body == "ok");
    CHECK(requests_seen == 3);
}

TEST_CASE("parse_retry_after: delta-seconds and HTTP dates", "[net][retry-after]") {
    using std::chrono::milliseconds;
    CHECK(parse_retry_after("120") == milliseconds(120'000));
    CHECK(parse_retry_after(" 5 ") == milliseconds(5'000));
    CHECK(parse_retry_after("0") == milliseconds(0));
    CHECK_FALSE(parse_retry_after(""));
    CHECK_FALSE(parse_retry_after("-1"));
    CHECK_FALSE(parse_retry_after("1.5"));
    CHECK_FALSE(parse_retry_after("soon"));
    CHECK_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT trailing"));

    // Dates in the past mean "now".
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == milliseconds(0));
    CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT") == milliseconds(0));
    CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994") == milliseconds(0));

    // A date 90 s ahead, in the three formats.
    std::time_t later = std::time(nullptr) + 90;
    std::tm tm{};
    gmtime_r(&later, &tm);
    char imf[64], rfc850[64], asc[64];
    std::strftime(imf, sizeof imf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    std::strftime(rfc850, sizeof rfc850, "%A, %d-%b-%y %H:%M:%S GMT", &tm);
    std::strftime(asc, sizeof asc, "%a %b %e %H:%M:%S %Y", &tm);
    for (const char *date : {imf, rfc850, asc}) {
        INFO(date);
        auto ms = parse_retry_after(date);
        REQUIRE(ms);
        CHECK(ms->count() > 85'000);
        CHECK(ms->count() <= 90'000);
    }
}
