// sse_client.hpp — a long-lived HTTP(S) GET whose body is read as it arrives (for the streaming API), which
// relais_net's blocking client cannot do. Beast stays inside sse_client.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace relais::mastodon {

struct SseRequest {
    std::string url; // http:// or https://
    std::vector<std::pair<std::string, std::string>> headers;
    bool verify_tls = true;
    std::string ca_file;
    std::chrono::milliseconds connect_timeout{10'000}; // resolving, connecting, TLS, and the answer's headers
    std::chrono::milliseconds idle_timeout{120'000};   // the longest silence (Mastodon sends a heartbeat often)
};

// Why a stream ended.
struct SseEnd {
    int status = 0;    // the HTTP status when the server refused the stream (not 200); 0 otherwise
    std::string error; // what went wrong, for the log; empty when stopped or the server ended the stream politely
    std::string body;  // the refusal's body (its start), to read the API's error message from
};

class SseClient {
public:
    // Blocks until the stream ends, fails or stop() is called. on_open runs once the server has accepted the stream
    // (HTTP 200), before any byte of the body is handed to on_bytes. Both run on the calling thread.
    SseEnd run(const SseRequest &request, const std::function<void()> &on_open,
               const std::function<void(std::string_view)> &on_bytes);

    // From any thread: ends run() now and makes every later run() return at once.
    void stop();
    bool stopping() const { return stopping_; }

private:
    std::mutex mutex_;
    boost::asio::io_context *running_ = nullptr; // the io_context of the run() in progress
    std::atomic<bool> stopping_{false};
};

} // namespace relais::mastodon
