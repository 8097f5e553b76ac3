// The HTTP side of the load: a keep-alive client that POSTs, a WebSocket reader, and a trivial HTTP server (the
// echo baseline, and the receiver of webhook deliveries). Boost.Beast stays in http_load.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace relais::bench {

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port, one POST at a time (as one sender of a chat bot does).
class HttpPoster {
public:
    HttpPoster(uint16_t port, std::string target);
    ~HttpPoster();
    // The answer's status, or 0 when the exchange failed (then the next post reconnects). Waits at most 10 s.
    int post(const std::string &json_body);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Reads every text frame of ws://127.0.0.1:port/target on a thread of its own until destroyed.
class WebSocketReader {
public:
    using OnText = std::function<void(std::string_view text, int64_t at_ns)>;
    // Returns once the first frame (the server's greeting) has arrived; throws when none came within 10 s.
    WebSocketReader(uint16_t port, std::string target, OnText on_text);
    ~WebSocketReader();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A trivial HTTP/1.1 server on 127.0.0.1 (one thread, keep-alive): each request's body goes to the handler at
// arrival, and the handler's return value is the 200 answer's JSON body.
class TrivialHttpServer {
public:
    using Handler = std::function<std::string(std::string_view body, int64_t at_ns)>;
    explicit TrivialHttpServer(Handler handler);
    ~TrivialHttpServer();
    uint16_t port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace relais::bench
