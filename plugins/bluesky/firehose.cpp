#include "firehose.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <atomic>
#include <random>
#include <stdexcept>
#include <thread>

namespace bluesky {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

namespace {

struct Target {
    bool tls = false;
    std::string host, port, path;
};

Target parse_url(const std::string &url) {
    Target t;
    size_t scheme_end = url.find("://");
    if (scheme_end == std::string::npos) throw std::runtime_error("not a ws:// or wss:// URL: " + url);
    std::string scheme = url.substr(0, scheme_end);
    if (scheme == "wss") t.tls = true;
    else if (scheme != "ws") throw std::runtime_error("not a ws:// or wss:// URL: " + url);
    size_t host_start = scheme_end + 3, path_start = url.find('/', host_start);
    std::string authority = url.substr(host_start, path_start == std::string::npos ? std::string::npos
                                                                                    : path_start - host_start);
    t.path = path_start == std::string::npos ? "/" : url.substr(path_start);
    size_t colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
        t.host = authority.substr(0, colon);
        t.port = authority.substr(colon + 1);
    } else {
        t.host = authority;
        t.port = t.tls ? "443" : "80";
    }
    if (t.host.size() > 1 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
    if (t.host.empty()) throw std::runtime_error("no host in " + url);
    return t;
}

} // namespace

struct Firehose::Impl {
    Options options;
    Callbacks callbacks;
    asio::io_context io;
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::mt19937 random{std::random_device{}()};

    std::string target_path() {
        Target t = parse_url(options.url);
        std::string path = t.path;
        if (auto cursor = callbacks.cursor ? callbacks.cursor() : std::nullopt)
            path += std::string(path.find('?') == std::string::npos ? "?" : "&") + "cursor=" + std::to_string(*cursor);
        return path;
    }

    template <class Ws>
    asio::awaitable<void> read_frames(Ws &ws, const Target &t, bool &got_frames) {
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = options.connect_timeout;
        timeouts.idle_timeout = options.idle_timeout;
        timeouts.keep_alive_pings = true;
        ws.set_option(timeouts);
        ws.read_message_max(options.max_frame_bytes);
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::request_type &req) { req.set(beast::http::field::user_agent, "relais-bluesky"); }));
        co_await ws.async_handshake(t.host + ":" + t.port, target_path(), use_awaitable);
        if (callbacks.connected) callbacks.connected(options.url);
        beast::flat_buffer buffer;
        for (;;) {
            co_await ws.async_read(buffer, use_awaitable);
            if (stopping) co_return;
            auto data = buffer.data();
            std::string_view frame(static_cast<const char *>(data.data()), data.size());
            bool carry_on = !ws.got_binary() || callbacks.frame(frame);
            buffer.consume(buffer.size());
            got_frames = true;
            if (!carry_on) {
                beast::error_code ignored;
                co_await ws.async_close(websocket::close_code::normal,
                                        asio::redirect_error(use_awaitable, ignored));
                throw std::runtime_error("a frame could not be handed on; resuming from the stored cursor");
            }
        }
    }

    asio::awaitable<void> session(bool &got_frames) {
        Target t = parse_url(options.url);
        tcp::resolver resolver(io);
        auto endpoints = co_await resolver.async_resolve(t.host, t.port, use_awaitable);
        beast::tcp_stream stream(io);
        stream.expires_after(options.connect_timeout);
        co_await stream.async_connect(endpoints, use_awaitable);
        stream.expires_never(); // the websocket's own timeouts take over
        if (!t.tls) {
            websocket::stream<beast::tcp_stream> ws(std::move(stream));
            co_await read_frames(ws, t, got_frames);
            co_return;
        }
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.set_verify_mode(asio::ssl::verify_peer);
        if (options.ca_file.empty()) ctx.set_default_verify_paths();
        else ctx.load_verify_file(options.ca_file);
        websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(std::move(stream), ctx);
        if (!SSL_set_tlsext_host_name(ws.next_layer().native_handle(), t.host.c_str()))
            throw std::runtime_error("cannot set TLS server name " + t.host);
        ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(t.host));
        beast::get_lowest_layer(ws).expires_after(options.connect_timeout);
        co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, use_awaitable);
        beast::get_lowest_layer(ws).expires_never();
        co_await read_frames(ws, t, got_frames);
    }

    asio::awaitable<void> run() {
        auto backoff = options.reconnect_min;
        asio::steady_timer timer(io);
        while (!stopping) {
            bool got_frames = false;
            std::string why;
            try {
                co_await session(got_frames);
                why = "the server closed the stream";
            } catch (const boost::system::system_error &e) {
                why = e.code() == asio::error::eof ? "the server closed the connection" : e.code().message();
            } catch (const std::exception &e) {
                why = e.what();
            }
            if (stopping) break;
            if (got_frames) backoff = options.reconnect_min;
            std::uniform_real_distribution<double> jitter(0.9, 1.1);
            auto wait = std::chrono::milliseconds(static_cast<int64_t>(backoff.count() * jitter(random)));
            if (callbacks.disconnected)
                callbacks.disconnected(why + "; reconnecting in " + std::to_string(wait.count()) + " ms");
            timer.expires_after(wait);
            beast::error_code ignored;
            co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
            backoff = std::min(backoff * 2, options.reconnect_max);
        }
    }
};

Firehose::Firehose(Options options, Callbacks callbacks) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    impl_->callbacks = std::move(callbacks);
    parse_url(impl_->options.url); // a bad URL is a config error, found before start
}

Firehose::~Firehose() { stop(); }

void Firehose::start() {
    asio::co_spawn(impl_->io, impl_->run(), asio::detached);
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

void Firehose::stop() {
    impl_->stopping = true;
    impl_->io.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

} // namespace bluesky
