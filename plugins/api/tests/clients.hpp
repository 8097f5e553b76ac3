// Real HTTP, chunked-stream and WebSocket clients for the tests, over Boost.Beast (kept to clients.cpp).
// Every read has a timeout, so a test fails instead of hanging.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace api_test {

using Headers = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

struct HttpAnswer {
    int status = 0;
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;
};

// One HTTP/1.1 exchange on a new connection to 127.0.0.1:port.
HttpAnswer http_call(uint16_t port, const std::string &method, const std::string &target, const std::string &body = {},
                     const Headers &headers = {}, std::chrono::milliseconds timeout = 5s);

// GET on a path answered with a chunked body that stays open.
class StreamClient {
public:
    StreamClient(uint16_t port, const std::string &target, const Headers &headers = {},
                 std::chrono::milliseconds timeout = 5s);
    ~StreamClient();
    int status() const;
    std::string header(const std::string &lower_name) const;
    // The next complete chunk of the body; nullopt on timeout or when the server ends the stream.
    std::optional<std::string> next_chunk(std::chrono::milliseconds timeout = 5s);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A WebSocket client; the constructor throws when the handshake fails.
class WsClient {
public:
    WsClient(uint16_t port, const std::string &target, const Headers &headers = {},
             std::chrono::milliseconds timeout = 5s);
    ~WsClient();
    void send(const std::string &text);
    // The next text frame; nullopt on timeout or when the server closes the connection.
    std::optional<std::string> next_frame(std::chrono::milliseconds timeout = 5s);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace api_test
