// The HTTP server of relais/net/http.hpp over Boost.Beast: one HttpSession per connection (keep-alive, body
// limit, timeouts), handed over to a WsSession or a ChunkSession when the request opens a stream.
//
// Lifetimes: a session lives while its socket has operations pending and holds the ServerCore (io_context,
// routes, registry of live sessions). The Stream given to the application is a handle with a weak reference to
// its session: kept after the connection ended, or after the server is gone, it is closed and ignores sends.
#include <relais/net/http.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace relais::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

Response Response::error(int status, const std::string &message) {
    return json(status, boost::json::serialize(boost::json::object{{"error", message}}));
}

namespace {

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr size_t kMaxQueuedBytes = 16 * 1024 * 1024; // per stream: beyond this the client is too slow
constexpr std::chrono::seconds kLingerTime{2};

// Something the server can close when it stops.
class Closable {
public:
    virtual ~Closable() = default;
    virtual void shutdown() = 0;
};

struct Route {
    std::string content_type;
    StreamHandlers handlers;
};

std::string endpoint_text(const tcp::endpoint &ep) {
    auto addr = ep.address();
    std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    return host + ":" + std::to_string(ep.port());
}

bool is_http_parse_error(const beast::error_code &ec) {
    return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

// Fills path and query from the request target; false when the target is not a valid origin-form.
bool decode_target(Request &r) {
    auto parsed = boost::urls::parse_origin_form(r.target);
    if (!parsed) parsed = boost::urls::parse_uri(r.target); // absolute-form, as proxies send
    if (!parsed) return false;
    r.path = std::string(parsed->path());
    if (r.path.empty()) r.path = "/";
    for (auto param : parsed->params()) r.query[param.key] = param.value;
    return true;
}

} // namespace

// What the server and its sessions share.
struct ServerCore {
    ServerCore(HttpServer::Options o, HttpServer::AsyncHandler h) : options(std::move(o)), handler(std::move(h)) {}

    asio::io_context ioc; // first: destroyed last, after everything bound to it
    HttpServer::Options options;
    HttpServer::AsyncHandler handler;
    std::optional<tcp::acceptor> acceptor;
    std::optional<asio::steady_timer> accept_retry;

    std::mutex mutex;
    std::unordered_map<std::string, Route> websockets, streams;
    std::unordered_map<Closable *, std::weak_ptr<Closable>> sessions;
    bool stopping = false;

    // false when the server is stopping: the session must close at once.
    bool enroll(const std::shared_ptr<Closable> &s) {
        std::lock_guard lock(mutex);
        if (stopping) return false;
        sessions[s.get()] = s;
        return true;
    }
    void leave(Closable *s) {
        std::lock_guard lock(mutex);
        sessions.erase(s);
    }
    std::optional<Route> find(const std::unordered_map<std::string, Route> &routes, const std::string &path) {
        std::lock_guard lock(mutex);
        auto it = routes.find(path);
        if (it == routes.end()) return std::nullopt;
        return it->second;
    }
    void log(const std::string &text) const {
        if (!options.log_error) return;
        try {
            options.log_error(text);
        } catch (...) {
        }
    }
};

namespace {

// Queue of outgoing frames or chunks for one stream; used on the stream's strand only.
struct SendQueue {
    std::deque<std::string> items;
    size_t bytes = 0;
    bool writing = false;

    // Queues `text`; false when the client already has kMaxQueuedBytes waiting (it reads too slowly).
    bool push(std::string text) {
        bytes += text.size();
        if (bytes > kMaxQueuedBytes) return false;
        items.push_back(std::move(text));
        return true;
    }
};

// What a stream session does for its handle.
class StreamImpl {
public:
    virtual ~StreamImpl() = default;
    virtual void send(std::string text) = 0;
    virtual bool is_open() const = 0;
    virtual void close() = 0;
};

// The Stream the application holds. It does not own the connection: a session lives as long as its socket has
// operations pending, and a handle kept after that (or after the server is gone) is closed and ignores sends.
class StreamHandle : public Stream {
public:
    StreamHandle(std::weak_ptr<StreamImpl> impl, Request request)
        : impl_(std::move(impl)), request_(std::move(request)) {}
    void send(std::string text) override {
        if (auto s = impl_.lock()) s->send(std::move(text));
    }
    bool open() const override {
        auto s = impl_.lock();
        return s && s->is_open();
    }
    void close() override {
        if (auto s = impl_.lock()) s->close();
    }
    const Request &request() const override { return request_; }

private:
    std::weak_ptr<StreamImpl> impl_;
    Request request_;
};

template <class T>
void call_safely(const ServerCore &core, const char *what, T &&fn) {
    try {
        fn();
    } catch (const std::exception &e) {
        core.log(std::string(what) + " threw: " + e.what());
    } catch (...) {
        core.log(std::string(what) + " threw an unknown exception");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// WebSocket

class WsSession : public StreamImpl, public Closable, public std::enable_shared_from_this<WsSession> {
public:
    WsSession(std::shared_ptr<ServerCore> core, beast::tcp_stream &&stream, const Route &route, Request request)
        : core_(std::move(core)), ws_(std::move(stream)), handlers_(route.handlers), request_(std::move(request)),
          fallback_(ws_.get_executor()) {}
    ~WsSession() override { core_->leave(this); }

    void accept(http::request<http::string_body> req) {
        handle_ = std::make_shared<StreamHandle>(weak_from_this(), request_);
        if (!core_->enroll(shared_from_this())) return hard_close();
        beast::get_lowest_layer(ws_).expires_never(); // the websocket has its own timeouts
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type &res) { res.set(http::field::server, "relais"); }));
        if (core_->options.max_body_bytes) ws_.read_message_max(core_->options.max_body_bytes);
        ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->finish();
            self->open_ = true;
            if (self->handlers_.on_open) call_safely(*self->core_, "websocket on_open", [&] {
                self->handlers_.on_open(self->handle_);
            });
            self->read();
            if (!self->queue_.writing && !self->queue_.items.empty()) self->write_next();
        });
    }

    void send(std::string text) override {
        if (!open_) return;
        asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
            if (!self->open_ || self->closing_) return;
            if (!self->queue_.push(std::move(text))) {
                self->core_->log("websocket " + self->request_.path + " from " + self->request_.remote +
                                 ": the client reads too slowly (16 MiB queued); disconnecting it");
                return self->hard_close();
            }
            if (!self->queue_.writing) self->write_next();
        });
    }
    bool is_open() const override { return open_; }
    void close() override {
        asio::post(ws_.get_executor(), [self = shared_from_this()] {
            if (!self->open_ || self->closing_) return;
            self->closing_ = true;
            if (!self->queue_.writing) self->close_politely(websocket::close_code::normal);
        });
    }
    void shutdown() override {
        asio::post(ws_.get_executor(), [self = shared_from_this()] {
            if (self->open_ && !self->queue_.writing && !self->closing_) {
                self->closing_ = true;
                self->close_politely(websocket::close_code::going_away);
            } else {
                self->hard_close();
            }
        });
    }

private:
    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return self->finish();
            std::string text = beast::buffers_to_string(self->buffer_.data());
            self->buffer_.consume(self->buffer_.size());
            if (self->handlers_.on_message) call_safely(*self->core_, "websocket on_message", [&] {
                self->handlers_.on_message(self->handle_, std::move(text));
            });
            self->read();
        });
    }
    void write_next() {
        queue_.writing = true;
        ws_.text(true);
        ws_.async_write(asio::buffer(queue_.items.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
            auto &q = self->queue_;
            q.bytes -= q.items.front().size();
            q.items.pop_front();
            q.writing = false;
            if (ec) return self->finish();
            if (!q.items.empty()) return self->write_next();
            if (self->closing_) self->close_politely(websocket::close_code::normal);
        });
    }
    // Sends a close frame; the pending read ends when the client answers. A silent client is cut after 1 s.
    void close_politely(websocket::close_code code) {
        ws_.async_close(code, [self = shared_from_this()](beast::error_code ec) {
            if (ec) self->finish();
        });
        fallback_.expires_after(std::chrono::seconds(1));
        fallback_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->hard_close();
        });
    }
    void hard_close() {
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).close();
        finish();
    }
    void finish() {
        fallback_.cancel();
        if (notified_) return;
        notified_ = true;
        bool was_open = open_.exchange(false);
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).close();
        if (was_open && handlers_.on_close) call_safely(*core_, "websocket on_close", [&] {
            handlers_.on_close(handle_);
        });
    }

    std::shared_ptr<ServerCore> core_; // first: outlives the socket below
    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    StreamHandlers handlers_;
    Request request_;
    std::shared_ptr<StreamHandle> handle_;
    asio::steady_timer fallback_;
    SendQueue queue_;
    std::atomic<bool> open_{false};
    bool closing_ = false;
    bool notified_ = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Chunked response kept open

class ChunkSession : public StreamImpl, public Closable, public std::enable_shared_from_this<ChunkSession> {
public:
    ChunkSession(std::shared_ptr<ServerCore> core, beast::tcp_stream &&stream, const Route &route, Request request)
        : core_(std::move(core)), stream_(std::move(stream)), handlers_(route.handlers),
          request_(std::move(request)) {
        header_.result(http::status::ok);
        header_.set(http::field::server, "relais");
        header_.set(http::field::content_type, route.content_type);
        header_.set(http::field::cache_control, "no-cache");
        header_.set("X-Accel-Buffering", "no");
        header_.keep_alive(false); // the stream ends the connection
        header_.chunked(true);
    }
    ~ChunkSession() override { core_->leave(this); }

    void begin(unsigned version) {
        handle_ = std::make_shared<StreamHandle>(weak_from_this(), request_);
        if (!core_->enroll(shared_from_this())) return finish();
        header_.version(version);
        stream_.expires_after(core_->options.read_timeout);
        http::async_write_header(stream_, serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return self->finish();
            self->open_ = true;
            self->stream_.expires_never();
            self->watch_client();
            if (self->handlers_.on_open) call_safely(*self->core_, "stream on_open", [&] {
                self->handlers_.on_open(self->handle_);
            });
            if (!self->queue_.writing && !self->queue_.items.empty()) self->write_next();
            else if (!self->queue_.writing && self->closing_) self->write_last();
        });
    }

    void send(std::string text) override {
        if (!open_ || text.empty()) return; // an empty chunk would end the response
        asio::post(stream_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
            if (!self->open_ || self->closing_) return;
            if (!self->queue_.push(std::move(text))) {
                self->core_->log("stream " + self->request_.path + " to " + self->request_.remote +
                                 ": the client reads too slowly (16 MiB queued); disconnecting it");
                return self->finish();
            }
            if (!self->queue_.writing) self->write_next();
        });
    }
    bool is_open() const override { return open_; }
    void close() override {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            if (!self->open_ || self->closing_) return;
            self->closing_ = true;
            if (!self->queue_.writing) self->write_last();
        });
    }
    void shutdown() override {
        asio::post(stream_.get_executor(), [self = shared_from_this()] { self->finish(); });
    }

private:
    // Reads (and ignores) whatever the client sends, to learn at once when it goes away.
    void watch_client() {
        stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return self->finish();
            self->watch_client();
        });
    }
    void write_next() {
        queue_.writing = true;
        stream_.expires_after(core_->options.read_timeout); // a write timeout: the read pending keeps none
        asio::async_write(stream_, http::make_chunk(asio::buffer(queue_.items.front())),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                              auto &q = self->queue_;
                              q.bytes -= q.items.front().size();
                              q.items.pop_front();
                              q.writing = false;
                              if (ec) return self->finish();
                              if (!q.items.empty()) return self->write_next();
                              if (self->closing_) self->write_last();
                          });
    }
    void write_last() {
        queue_.writing = true;
        stream_.expires_after(core_->options.read_timeout);
        asio::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code, size_t) {
            self->queue_.writing = false;
            self->finish();
        });
    }
    void finish() {
        if (notified_) return;
        notified_ = true;
        bool was_open = open_.exchange(false);
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        if (was_open && handlers_.on_close) call_safely(*core_, "stream on_close", [&] {
            handlers_.on_close(handle_);
        });
    }

    std::shared_ptr<ServerCore> core_;
    beast::tcp_stream stream_;
    StreamHandlers handlers_;
    Request request_;
    std::shared_ptr<StreamHandle> handle_;
    http::response<http::empty_body> header_;
    http::response_serializer<http::empty_body> serializer_{header_};
    std::array<char, 512> scratch_{};
    SendQueue queue_;
    std::atomic<bool> open_{false};
    bool closing_ = false;
    bool notified_ = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Plain HTTP/1.1 connection

class HttpSession : public Closable, public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(std::shared_ptr<ServerCore> core, tcp::socket &&socket)
        : core_(std::move(core)), stream_(std::move(socket)) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) remote_ = endpoint_text(ep);
        // Answers and stream frames are small and often follow one another: without this, a frame written while
        // the previous one is not yet acknowledged waits for the peer's delayed ACK (tens of milliseconds).
        stream_.socket().set_option(tcp::no_delay(true), ec);
    }
    ~HttpSession() override { core_->leave(this); }

    void begin() {
        if (!core_->enroll(shared_from_this())) return close_now();
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
    }
    void shutdown() override {
        asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
    }

private:
    void read_request() {
        if (handed_over_) return;
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        if (core_->options.max_body_bytes) parser_->body_limit(core_->options.max_body_bytes);
        else parser_->body_limit(boost::none);
        stream_.expires_after(core_->options.read_timeout);
        http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->on_header(ec);
        });
    }

    bool answer_read_error(const beast::error_code &ec) {
        if (ec == http::error::body_limit) {
            send(Response::error(413, "the body is larger than " + std::to_string(core_->options.max_body_bytes) +
                                          " bytes"),
                 11, false, false);
            return true;
        }
        if (ec == http::error::end_of_stream || !is_http_parse_error(ec)) {
            close_now(); // the client left, timed out or reset
            return true;
        }
        send(Response::error(400, "malformed HTTP request: " + ec.message()), 11, false, false);
        return true;
    }

    void on_header(beast::error_code ec) {
        if (ec) {
            answer_read_error(ec);
            return;
        }
        auto &req = parser_->get();
        if (beast::iequals(req[http::field::expect], "100-continue")) {
            auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
            http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                if (ec) return self->close_now();
                self->read_body();
            });
            return;
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) {
                self->answer_read_error(ec);
                return;
            }
            self->dispatch(self->parser_->release());
        });
    }

    void dispatch(http::request<http::string_body> req) {
        Request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.remote = remote_;
        for (const auto &field : req) {
            std::string name(field.name_string());
            for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            auto [it, fresh] = r.headers.emplace(name, std::string(field.value()));
            if (!fresh) it->second += ", " + std::string(field.value());
        }
        unsigned version = req.version();
        bool keep_alive = req.keep_alive();
        bool head = req.method() == http::verb::head;
        if (!decode_target(r)) return send(Response::error(400, "malformed request target"), version, false, false);

        if (auto route = core_->find(core_->websockets, r.path)) {
            if (!websocket::is_upgrade(req))
                return send(Response::error(426, "this path expects a WebSocket upgrade"), version, keep_alive, head);
            handed_over_ = true;
            auto ws = std::make_shared<WsSession>(core_, std::move(stream_), *route, std::move(r));
            core_->leave(this);
            ws->accept(std::move(req));
            return;
        }
        if (req.method() == http::verb::get) {
            if (auto route = core_->find(core_->streams, r.path)) {
                handed_over_ = true;
                auto chunks = std::make_shared<ChunkSession>(core_, std::move(stream_), *route, std::move(r));
                core_->leave(this);
                chunks->begin(version);
                return;
            }
        }

        r.body = std::move(req.body());
        if (!core_->handler) return send(Response::error(404, "not found"), version, keep_alive, head);
        // The answer is written on this connection's executor, whichever thread gives it.
        auto answered = std::make_shared<std::atomic<bool>>(false);
        HttpServer::Reply reply = [self = shared_from_this(), answered, version, keep_alive, head](Response res) {
            if (answered->exchange(true)) return;
            {
                // Once stopping, nobody runs the connection's executor any more: an answer posted to it would only
                // keep the session (and the server's io_context) alive.
                std::lock_guard lock(self->core_->mutex);
                if (self->core_->stopping) return;
            }
            // At once when given on the connection's own executor (a handler answering before it returns).
            asio::dispatch(self->stream_.get_executor(), [self, res = std::move(res), version, keep_alive,
                                                          head]() mutable {
                self->send(std::move(res), version, keep_alive, head);
            });
        };
        try {
            core_->handler(r, reply);
        } catch (const std::exception &e) {
            core_->log("handler for " + r.method + " " + r.path + " threw: " + e.what());
            reply(Response::error(500, "internal server error"));
        } catch (...) {
            core_->log("handler for " + r.method + " " + r.path + " threw an unknown exception");
            reply(Response::error(500, "internal server error"));
        }
    }

    // Writes a response; then reads the next request, or closes (lingering, so the client reads the answer).
    void send(Response r, unsigned version, bool keep_alive, bool head) {
        auto res = std::make_shared<http::response<http::string_body>>();
        res->version(version);
        res->result(static_cast<unsigned>(r.status < 100 || r.status > 999 ? 500 : r.status));
        res->set(http::field::server, "relais");
        if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
        for (const auto &[name, value] : r.headers) res->set(name, value);
        res->body() = std::move(r.body);
        res->keep_alive(keep_alive);
        res->prepare_payload();
        auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*res);
        auto done = [self = shared_from_this(), res, serializer, keep_alive](beast::error_code ec, size_t) {
            if (ec) return self->close_now();
            if (keep_alive) return self->read_request();
            self->linger();
        };
        stream_.expires_after(core_->options.read_timeout);
        if (head) http::async_write_header(stream_, *serializer, std::move(done));
        else http::async_write(stream_, *serializer, std::move(done));
    }

    // Half-closes and reads what the client still sends (a body we refused) until it closes, for at most 2 s:
    // closing with unread data would reset the connection and the client could lose our answer.
    void linger() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        if (!lingering_) stream_.expires_after(kLingerTime);
        lingering_ = true;
        buffer_.consume(buffer_.size());
        stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return self->close_now();
            self->linger();
        });
    }

    void close_now() {
        if (handed_over_ || closed_) return;
        closed_ = true;
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    std::shared_ptr<ServerCore> core_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string remote_;
    bool handed_over_ = false; // the socket now belongs to a stream session
    bool lingering_ = false;
    bool closed_ = false;
};

void accept_next(const std::shared_ptr<ServerCore> &core) {
    core->acceptor->async_accept(asio::make_strand(core->ioc), [core](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == asio::error::operation_aborted || !core->acceptor->is_open()) return;
            core->log("accepting a connection failed: " + ec.message() + " (retrying in 100 ms)");
            core->accept_retry->expires_after(std::chrono::milliseconds(100));
            core->accept_retry->async_wait([core](beast::error_code ec) {
                if (!ec && core->acceptor->is_open()) accept_next(core);
            });
            return;
        }
        std::make_shared<HttpSession>(core, std::move(socket))->begin();
        accept_next(core);
    });
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------

struct HttpServer::Impl {
    std::shared_ptr<ServerCore> core;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    std::mutex mutex;
    bool started = false, stopped = false;
    uint16_t port = 0;
};

HttpServer::HttpServer(Options options, AsyncHandler handler) : impl_(std::make_unique<Impl>()) {
    impl_->core = std::make_shared<ServerCore>(std::move(options), std::move(handler));
}

HttpServer::HttpServer(Options options, Handler handler)
    : HttpServer(std::move(options), handler ? AsyncHandler([handler = std::move(handler)](const Request &r,
                                                                                           Reply reply) {
          reply(handler(r)); // a throw reaches the server's catch before any reply
      })
                                             : AsyncHandler()) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::websocket(const std::string &path, StreamHandlers handlers) {
    std::lock_guard lock(impl_->core->mutex);
    impl_->core->websockets[path] = Route{"", std::move(handlers)};
}

void HttpServer::stream(const std::string &path, const std::string &content_type, StreamHandlers handlers) {
    std::lock_guard lock(impl_->core->mutex);
    impl_->core->streams[path] = Route{content_type, std::move(handlers)};
}

void HttpServer::start() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started) throw std::runtime_error("HttpServer::start: already started");
    auto &core = *impl_->core;
    const auto &o = core.options;
    std::string where = o.host + ":" + std::to_string(o.port);
    try {
        tcp::endpoint endpoint;
        beast::error_code ec;
        auto address = asio::ip::make_address(o.host, ec);
        if (!ec) {
            endpoint = tcp::endpoint(address, o.port);
        } else {
            tcp::resolver resolver(core.ioc);
            auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive);
            if (results.empty()) throw std::runtime_error("the host name resolves to no address");
            endpoint = results.begin()->endpoint();
        }
        core.acceptor.emplace(asio::make_strand(core.ioc));
        core.accept_retry.emplace(core.acceptor->get_executor());
        core.acceptor->open(endpoint.protocol());
        core.acceptor->set_option(asio::socket_base::reuse_address(true));
        core.acceptor->bind(endpoint);
        core.acceptor->listen(asio::socket_base::max_listen_connections);
        impl_->port = core.acceptor->local_endpoint().port();
    } catch (const std::exception &e) {
        core.acceptor.reset();
        throw std::runtime_error("cannot listen on " + where + ": " + e.what());
    }
    impl_->started = true;
    accept_next(impl_->core);
    impl_->work.emplace(core.ioc.get_executor());
    unsigned n = o.threads ? o.threads : 1;
    for (unsigned i = 0; i < n; ++i)
        impl_->threads.emplace_back([core = impl_->core] {
            for (;;) {
                try {
                    core->ioc.run();
                    return;
                } catch (const std::exception &e) {
                    core->log(std::string("HTTP server thread caught: ") + e.what());
                } catch (...) {
                    core->log("HTTP server thread caught an unknown exception");
                }
            }
        });
}

void HttpServer::stop() {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->started || impl_->stopped) return;
    impl_->stopped = true;
    auto core = impl_->core;
    std::vector<std::shared_ptr<Closable>> live;
    {
        std::lock_guard core_lock(core->mutex);
        core->stopping = true;
        for (auto &[ptr, weak] : core->sessions)
            if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    asio::post(core->acceptor->get_executor(), [core] {
        beast::error_code ignored;
        core->acceptor->close(ignored);
        core->accept_retry->cancel();
    });
    for (auto &s : live) s->shutdown();
    live.clear();
    impl_->work.reset();
    for (auto &t : impl_->threads)
        if (t.joinable()) t.join();
    impl_->threads.clear();
}

uint16_t HttpServer::port() const { return impl_->port; }

} // namespace relais::net
