// sse_client.cpp — the streaming GET over Boost.Beast: each run() has its own io_context on the calling thread, so
// stop() can end it from another thread by stopping that context.
#include "sse_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

namespace relais::mastodon {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Target {
    bool tls = false;
    std::string host, port, host_header, path;
};

bool parse_target(const std::string &url, Target &t, std::string &error) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty()) {
        error = "not an http(s) URL: \"" + url + "\"";
        return false;
    }
    t.tls = parsed->scheme() == "https";
    t.host = std::string(parsed->host_address());
    t.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
    t.host_header = std::string(parsed->encoded_host_and_port());
    t.path = std::string(parsed->encoded_target());
    if (t.path.empty() || t.path[0] != '/') t.path = "/" + t.path;
    return true;
}

class Exchange {
public:
    Exchange(asio::io_context &ioc, const std::atomic<bool> &stopping) : ioc_(ioc), stopping_(stopping) {}

    // Runs one asynchronous step to completion; a stopped context leaves `ec` at operation_aborted.
    template <class Start> beast::error_code step(Start start) {
        beast::error_code ec = asio::error::operation_aborted;
        bool done = false;
        start([&](beast::error_code e, auto &&...) {
            ec = e;
            done = true;
        });
        ioc_.restart();
        while (!done && !stopping_ && ioc_.run_one() > 0) {}
        return done ? ec : beast::error_code(asio::error::operation_aborted);
    }

    template <class Stream>
    SseEnd talk(Stream &stream, beast::tcp_stream &timed, const SseRequest &request, const Target &t,
                const std::function<void()> &on_open, const std::function<void(std::string_view)> &on_bytes) {
        SseEnd end;
        http::request<http::empty_body> req{http::verb::get, t.path, 11};
        req.set(http::field::host, t.host_header);
        req.set(http::field::user_agent, "relais/0.1");
        req.set(http::field::accept, "text/event-stream");
        req.set(http::field::cache_control, "no-cache");
        for (const auto &[name, value] : request.headers)
            req.set(name, value);
        timed.expires_after(request.connect_timeout);
        if (auto ec = step([&](auto h) { http::async_write(stream, req, h); }))
            return failed(end, "sending the stream request failed: " + ec.message());

        beast::flat_buffer buffer;
        http::response_parser<http::buffer_body> parser;
        parser.body_limit(boost::none);
        if (auto ec = step([&](auto h) { http::async_read_header(stream, buffer, parser, h); }))
            return failed(end, "no answer to the stream request: " + ec.message());

        char chunk[8192];
        if (parser.get().result_int() != 200) {
            end.status = static_cast<int>(parser.get().result_int());
            end.error = "the server refused the stream with HTTP " + std::to_string(end.status);
            while (!parser.is_done() && end.body.size() < 16384) { // its error message, if it sends one
                parser.get().body().data = chunk;
                parser.get().body().size = sizeof(chunk);
                auto ec = step([&](auto h) { http::async_read_some(stream, buffer, parser, h); });
                end.body.append(chunk, sizeof(chunk) - parser.get().body().size);
                if (ec && ec != http::error::need_buffer) break;
            }
            return end;
        }
        on_open();
        while (!stopping_) {
            parser.get().body().data = chunk;
            parser.get().body().size = sizeof(chunk);
            timed.expires_after(request.idle_timeout);
            auto ec = step([&](auto h) { http::async_read_some(stream, buffer, parser, h); });
            size_t n = sizeof(chunk) - parser.get().body().size;
            if (n > 0) on_bytes(std::string_view(chunk, n));
            if (ec == http::error::need_buffer) ec = {};
            if (stopping_) break;
            if (ec == beast::error::timeout)
                return failed(end,
                              "the stream was silent for " + std::to_string(request.idle_timeout.count() / 1000) + "s");
            if (ec == http::error::end_of_stream || ec == asio::error::eof || parser.is_done())
                return failed(end, "the server ended the stream");
            if (ec) return failed(end, "the stream broke: " + ec.message());
        }
        return end;
    }

    SseEnd &failed(SseEnd &end, std::string why) {
        if (!stopping_) end.error = std::move(why);
        return end;
    }

private:
    asio::io_context &ioc_;
    const std::atomic<bool> &stopping_;
};

} // namespace

SseEnd SseClient::run(const SseRequest &request, const std::function<void()> &on_open,
                      const std::function<void(std::string_view)> &on_bytes) {
    SseEnd end;
    Target t;
    if (!parse_target(request.url, t, end.error)) return end;
    asio::io_context ioc;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return end;
        running_ = &ioc;
    }
    struct Unregister {
        SseClient &c;
        ~Unregister() {
            std::lock_guard lock(c.mutex_);
            c.running_ = nullptr;
        }
    } unregister{*this};
    Exchange ex(ioc, stopping_);

    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    auto ec = ex.step([&](auto h) {
        resolver.async_resolve(t.host, t.port, [&endpoints, h](beast::error_code e, tcp::resolver::results_type r) {
            endpoints = std::move(r);
            h(e);
        });
    });
    if (ec) return ex.failed(end, "cannot resolve " + t.host + ": " + ec.message());

    if (!t.tls) {
        beast::tcp_stream stream(ioc);
        stream.expires_after(request.connect_timeout);
        if (auto e = ex.step([&](auto h) { stream.async_connect(endpoints, h); }))
            return ex.failed(end, "cannot connect to " + t.host_header + ": " + e.message());
        return ex.talk(stream, stream, request, t, on_open, on_bytes);
    }

    ssl::context ctx(ssl::context::tls_client);
    beast::error_code ctx_ec;
    if (request.verify_tls) {
        if (request.ca_file.empty())
            ctx.set_default_verify_paths(ctx_ec);
        else
            ctx.load_verify_file(request.ca_file, ctx_ec);
        if (ctx_ec) return ex.failed(end, "cannot load the CA certificates: " + ctx_ec.message());
        ctx.set_verify_mode(ssl::verify_peer);
    } else {
        ctx.set_verify_mode(ssl::verify_none);
    }
    ssl::stream<beast::tcp_stream> stream(ioc, ctx);
    beast::error_code ip_ec;
    asio::ip::make_address(t.host, ip_ec);
    if (ip_ec && !SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()))
        return ex.failed(end, "cannot set the TLS server name to " + t.host);
    if (request.verify_tls) stream.set_verify_callback(ssl::host_name_verification(t.host));
    stream.next_layer().expires_after(request.connect_timeout);
    if (auto e = ex.step([&](auto h) { stream.next_layer().async_connect(endpoints, h); }))
        return ex.failed(end, "cannot connect to " + t.host_header + ": " + e.message());
    if (auto e = ex.step([&](auto h) { stream.async_handshake(ssl::stream_base::client, h); }))
        return ex.failed(end, "TLS handshake with " + t.host_header + " failed: " + e.message());
    return ex.talk(stream, stream.next_layer(), request, t, on_open, on_bytes);
}

void SseClient::stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (running_) running_->stop();
}

} // namespace relais::mastodon
