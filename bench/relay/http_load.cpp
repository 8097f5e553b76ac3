#include "http_load.hpp"

#include "tracker.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <future>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>

namespace relais::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// Blocking calls on this socket give up after `seconds`: the benchmark never hangs on a stuck peer.
void bound_blocking_calls(tcp::socket &socket, int seconds) {
    timeval tv{seconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

tcp::endpoint loopback(uint16_t port) { return {asio::ip::make_address_v4("127.0.0.1"), port}; }
} // namespace

// --- HttpPoster ---

struct HttpPoster::Impl {
    asio::io_context io;
    tcp::socket socket{io};
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    uint16_t port;
};

HttpPoster::HttpPoster(uint16_t port, std::string target) : impl_(std::make_unique<Impl>()) {
    impl_->port = port;
    impl_->request = http::request<http::string_body>(http::verb::post, target, 11);
    impl_->request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    impl_->request.set(http::field::content_type, "application/json");
    impl_->request.keep_alive(true);
}

HttpPoster::~HttpPoster() = default;

int HttpPoster::post(const std::string &json_body) {
    auto &s = *impl_;
    beast::error_code ec;
    if (!s.socket.is_open()) {
        s.socket.connect(loopback(s.port), ec);
        if (ec) {
            s.socket.close(ec);
            return 0;
        }
        s.socket.set_option(tcp::no_delay(true));
        bound_blocking_calls(s.socket, 10);
        s.buffer.clear();
    }
    s.request.body() = json_body;
    s.request.prepare_payload();
    http::write(s.socket, s.request, ec);
    http::response<http::string_body> response;
    if (!ec) http::read(s.socket, s.buffer, response, ec);
    if (ec || !response.keep_alive()) s.socket.close(ec);
    return ec ? 0 : response.result_int();
}

// --- WebSocketReader ---

struct WebSocketReader::Impl {
    asio::io_context io;
    beast::websocket::stream<tcp::socket> ws{io};
    std::thread thread;
};

WebSocketReader::WebSocketReader(uint16_t port, std::string target, OnText on_text) : impl_(std::make_unique<Impl>()) {
    auto &ws = impl_->ws;
    ws.next_layer().connect(loopback(port));
    ws.next_layer().set_option(tcp::no_delay(true));
    bound_blocking_calls(ws.next_layer(), 10); // for the handshake and the greeting; cleared below
    ws.handshake("127.0.0.1:" + std::to_string(port), target);
    beast::flat_buffer greeting;
    ws.read(greeting);
    bound_blocking_calls(ws.next_layer(), 0);   // 0: wait as long as it takes; the destructor shuts it down
    impl_->thread = std::thread([this, on_text = std::move(on_text)] {
        beast::flat_buffer buffer;
        for (;;) {
            beast::error_code ec;
            impl_->ws.read(buffer, ec);
            if (ec) return;
            auto data = buffer.cdata();
            on_text(std::string_view(static_cast<const char *>(data.data()), data.size()), now_ns());
            buffer.consume(buffer.size());
        }
    });
}

WebSocketReader::~WebSocketReader() {
    ::shutdown(impl_->ws.next_layer().native_handle(), SHUT_RDWR); // wakes the blocked read
    impl_->thread.join();
}

// --- TrivialHttpServer ---

namespace {
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, const TrivialHttpServer::Handler &handler)
        : socket_(std::move(socket)), handler_(handler) {}

    void start() { read(); }

private:
    void read() {
        request_ = {};
        http::async_read(socket_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (!ec) self->answer();
        });
    }

    void answer() {
        response_ = http::response<http::string_body>(http::status::ok, request_.version());
        response_.set(http::field::content_type, "application/json");
        response_.keep_alive(request_.keep_alive());
        response_.body() = handler_(request_.body(), now_ns());
        response_.prepare_payload();
        http::async_write(socket_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return;
            if (self->response_.keep_alive()) self->read();
            else self->socket_.shutdown(tcp::socket::shutdown_send, ec);
        });
    }

    tcp::socket socket_;
    const TrivialHttpServer::Handler &handler_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};
} // namespace

struct TrivialHttpServer::Impl {
    Handler handler;
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    std::thread thread;

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<Session>(std::move(socket), handler)->start();
            accept();
        });
    }
};

TrivialHttpServer::TrivialHttpServer(Handler handler) : impl_(std::make_unique<Impl>()) {
    impl_->handler = std::move(handler);
    impl_->acceptor.open(tcp::v4());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(loopback(0));
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

TrivialHttpServer::~TrivialHttpServer() {
    impl_->io.stop();
    impl_->thread.join();
}

uint16_t TrivialHttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

} // namespace relais::bench
