#include "clients.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <stdexcept>

namespace api_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Runs the io_context until `done` or the timeout; on timeout cancels what is pending and returns false.
bool run_until(asio::io_context &ioc, const bool &done, std::chrono::milliseconds timeout, tcp::socket &socket) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    if (done) return true;
    beast::error_code ignored;
    socket.cancel(ignored);
    ioc.restart();
    ioc.run(); // let the cancelled handlers finish
    return false;
}

tcp::socket connect(asio::io_context &ioc, uint16_t port) {
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return socket;
}

std::map<std::string, std::string> lower_headers(const http::fields &fields) {
    std::map<std::string, std::string> out;
    for (const auto &f : fields) {
        std::string name(f.name_string());
        for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out[name] = std::string(f.value());
    }
    return out;
}

} // namespace

HttpAnswer http_call(uint16_t port, const std::string &method, const std::string &target, const std::string &body,
                     const Headers &headers, std::chrono::milliseconds timeout) {
    asio::io_context ioc;
    beast::tcp_stream stream(connect(ioc, port));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto &[k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);

    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    bool done = false;
    beast::error_code error;
    http::async_read(stream, buffer, res, [&](beast::error_code ec, size_t) {
        error = ec;
        done = true;
    });
    if (!run_until(ioc, done, timeout, stream.socket())) throw std::runtime_error("HTTP answer timed out");
    if (error) throw std::runtime_error("HTTP read failed: " + error.message());
    return HttpAnswer{static_cast<int>(res.result_int()), lower_headers(res.base()), res.body()};
}

struct StreamClient::Impl {
    asio::io_context ioc;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    std::string partial;
    std::deque<std::string> chunks;
    bool ended = false;
    std::function<size_t(std::uint64_t, std::string_view, beast::error_code &)> on_body;

    explicit Impl(uint16_t port) : stream(connect(ioc, port)) {
        parser.body_limit(boost::none);
        on_body = [this](std::uint64_t remain, std::string_view body, beast::error_code &) {
            partial.append(body.data(), body.size());
            if (remain == body.size()) { // this piece ends the chunk
                chunks.push_back(std::move(partial));
                partial.clear();
            }
            return body.size();
        };
        parser.on_chunk_body(on_body);
    }
};

StreamClient::StreamClient(uint16_t port, const std::string &target, const Headers &headers,
                           std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(port)) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto &[k, v] : headers) req.set(k, v);
    http::write(impl_->stream, req);
    bool done = false;
    beast::error_code error;
    http::async_read_header(impl_->stream, impl_->buffer, impl_->parser, [&](beast::error_code ec, size_t) {
        error = ec;
        done = true;
    });
    if (!run_until(impl_->ioc, done, timeout, impl_->stream.socket()))
        throw std::runtime_error("stream headers timed out");
    if (error) throw std::runtime_error("stream header read failed: " + error.message());
}

StreamClient::~StreamClient() = default;

int StreamClient::status() const { return static_cast<int>(impl_->parser.get().result_int()); }

std::string StreamClient::header(const std::string &lower_name) const {
    auto headers = lower_headers(impl_->parser.get().base());
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> StreamClient::next_chunk(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (impl_->chunks.empty() && !impl_->ended && !impl_->parser.is_done()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        bool done = false;
        beast::error_code error;
        http::async_read_some(impl_->stream, impl_->buffer, impl_->parser, [&](beast::error_code ec, size_t) {
            error = ec;
            done = true;
        });
        if (!run_until(impl_->ioc, done, left, impl_->stream.socket())) return std::nullopt;
        if (error) impl_->ended = true;
    }
    if (impl_->chunks.empty()) return std::nullopt;
    std::string chunk = std::move(impl_->chunks.front());
    impl_->chunks.pop_front();
    return chunk;
}

struct WsClient::Impl {
    asio::io_context ioc;
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    explicit Impl(uint16_t port) : ws(connect(ioc, port)) {}
};

WsClient::WsClient(uint16_t port, const std::string &target, const Headers &headers, std::chrono::milliseconds)
    : impl_(std::make_unique<Impl>(port)) {
    impl_->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type &req) {
        for (const auto &[k, v] : headers) req.set(k, v);
    }));
    impl_->ws.handshake("127.0.0.1:" + std::to_string(port), target); // throws on failure
}

WsClient::~WsClient() {
    beast::error_code ignored;
    impl_->ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    impl_->ws.next_layer().close(ignored);
}

void WsClient::send(const std::string &text) {
    impl_->ws.text(true);
    impl_->ws.write(asio::buffer(text));
}

std::optional<std::string> WsClient::next_frame(std::chrono::milliseconds timeout) {
    bool done = false;
    beast::error_code error;
    impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, size_t) {
        error = ec;
        done = true;
    });
    if (!run_until(impl_->ioc, done, timeout, impl_->ws.next_layer())) return std::nullopt;
    if (error) return std::nullopt;
    std::string text = beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.consume(impl_->buffer.size());
    return text;
}

} // namespace api_test
