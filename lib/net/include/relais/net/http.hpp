// relais/net/http.hpp — the small HTTP toolkit shared by the host's admin server and the connectors that speak
// HTTP (webhook, api, rss). Boost.Beast stays inside lib/net/src: including this header costs nothing.
// It is a build-time helper for plugins, not part of the plugin ABI.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace relais::net {

struct Request {
    std::string method;                         // "GET", "POST"…
    std::string target;                         // path and query as received
    std::string path;                           // percent-decoded path, without the query
    std::map<std::string, std::string> query;   // decoded query parameters (last one wins)
    std::map<std::string, std::string> headers; // keys in lower case
    std::string body;
    std::string remote;                         // "127.0.0.1:53412"

    std::string header(const std::string &lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
    std::string param(const std::string &name) const {
        auto it = query.find(name);
        return it == query.end() ? std::string() : it->second;
    }
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    static Response json(int status, std::string body) { return {status, "application/json", std::move(body), {}}; }
    static Response text(int status, std::string body) {
        return {status, "text/plain; charset=utf-8", std::move(body), {}};
    }
    // {"error": message} with the given status.
    static Response error(int status, const std::string &message);
};

// A long-lived outgoing stream to one client: a WebSocket, or a chunked HTTP response (one chunk per send).
// send() may be called from any thread; it queues and never blocks, and frames go out in the order sent.
// A closed stream ignores sends. A client that does not read (more than 16 MiB queued) is disconnected.
// close() ends the stream politely once what was queued is written.
class Stream {
public:
    virtual ~Stream() = default;
    virtual void send(std::string text) = 0;
    virtual bool open() const = 0;
    virtual void close() = 0;
    // The GET that opened the stream (path, query, headers, remote), e.g. to check a token in on_open.
    virtual const Request &request() const = 0;
};

// Called with a new stream. For WebSockets, on_message (if set) receives each text frame from the client.
// The callbacks of one stream run one at a time, on a server thread; they should not block for long.
// on_close is called once, whoever closed the stream (the client, close(), stop()).
struct StreamHandlers {
    std::function<void(std::shared_ptr<Stream>)> on_open;
    std::function<void(std::shared_ptr<Stream>, std::string)> on_message;
    std::function<void(std::shared_ptr<Stream>)> on_close;
};

class HttpServer {
public:
    struct Options {
        std::string host = "127.0.0.1";
        uint16_t port = 0;                       // 0: any free port (see port())
        size_t max_body_bytes = 1 << 20;         // larger bodies get 413
        unsigned threads = 1;
        std::chrono::milliseconds read_timeout{30'000}; // per request, and the idle time of a kept-alive connection
        // Told about failures nobody else sees (a handler that threw, an accept error). Optional.
        std::function<void(const std::string &)> log_error;
    };
    // Runs on a server thread; with threads > 1, concurrently. An exception becomes a 500 {"error": …}.
    using Handler = std::function<Response(const Request &)>;
    // The answer may come later, from any thread: the handler returns at once and the server thread serves
    // other connections meanwhile; the connection reads its next request once answered. Only the first call of
    // Reply counts; an exception thrown by the handler before it replies becomes a 500.
    using Reply = std::function<void(Response)>;
    using AsyncHandler = std::function<void(const Request &, Reply)>;

    HttpServer(Options options, Handler handler);
    HttpServer(Options options, AsyncHandler handler);
    HttpServer(Options options, std::nullptr_t) : HttpServer(std::move(options), AsyncHandler()) {} // streams only
    ~HttpServer(); // stops
    HttpServer(const HttpServer &) = delete;
    HttpServer &operator=(const HttpServer &) = delete;

    // A GET on `path` (decoded, exact match) upgraded to a WebSocket. Register before start().
    void websocket(const std::string &path, StreamHandlers handlers);
    // A GET on `path` answered with a chunked response that stays open (Content-Type given); on_message is unused.
    void stream(const std::string &path, const std::string &content_type, StreamHandlers handlers);

    // Binds and starts serving on background threads. Throws std::runtime_error naming the address on failure.
    void start();
    // Closes the listener and every connection and stream, then joins the threads. Idempotent.
    void stop();
    uint16_t port() const; // the bound port, after start()

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct ClientResponse {
    int status = 0;    // 0 when no answer came (then `error` says why)
    std::string error; // connection, TLS or timeout error
    std::map<std::string, std::string> headers; // keys in lower case
    std::string body;

    bool ok() const { return status >= 200 && status < 300; }
    std::string header(const std::string &lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct ClientRequest {
    std::string method = "GET";
    std::string url; // http:// or https:// (https refused where linked as relais_net_plain: the host)
    std::vector<std::pair<std::string, std::string>> headers; // replace the defaults (User-Agent, Accept)
    std::string body;
    std::chrono::milliseconds timeout{10'000}; // for the whole exchange: DNS, connect, TLS, redirects, body
    size_t max_body_bytes = 8 << 20;           // a larger answer is an error
    bool verify_tls = true;                    // certificate chain and host name; SNI is always sent
    std::string ca_file; // empty: the system's CA store
    // 301/302/303/307/308 with a Location are followed up to this many times (303, and 301/302 after a POST, become
    // a GET without body; credentials are dropped when the origin changes). When exceeded, the last 3xx is
    // returned with `error` set. 0: redirects are returned as they are.
    int max_redirects = 3;
};

// One blocking HTTP/1.1 exchange (a new connection each time). Never throws: failures are in `error` (with
// status 0 when no answer came).
ClientResponse http_request(const ClientRequest &request);

// The same exchanges over kept-alive connections: a connection whose answer allows it is kept, idle, for
// `keep_idle` and reused by the next request to the same origin (scheme, host, port and TLS settings), which
// saves a TCP and a TLS handshake a request. A request on a kept connection that the server closed meanwhile
// goes once more on a new one. Safe to use from several threads (each request takes a connection of its own).
class HttpClient {
public:
    explicit HttpClient(std::chrono::milliseconds keep_idle = std::chrono::seconds(30), size_t max_idle = 4);
    ~HttpClient();
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    ClientResponse request(const ClientRequest &request);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// The delay an HTTP Retry-After header asks for: delta-seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime;
// a past date gives 0). nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value);

} // namespace relais::net
