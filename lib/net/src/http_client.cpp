// The blocking HTTP(S) client of relais/net/http.hpp, and parse_retry_after().
//
// Each exchange runs the io_context of its connection on the calling thread; an HttpClient keeps connections
// (and their io_context) alive between exchanges. One deadline covers the whole call (resolving,
// connecting, TLS, writing, reading, and every redirect): the socket's timer is set to it before each step.
//
// Built twice: with TLS for the connectors, and with RELAIS_NET_TLS=0 for the host, whose only requests are the
// command line's to the daemon's admin endpoints on loopback — so the daemon maps no OpenSSL (1.7 MiB resident).
#ifndef RELAIS_NET_TLS
#define RELAIS_NET_TLS 1
#endif
#include <relais/net/http.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#if RELAIS_NET_TLS
#include <boost/asio/ssl.hpp>
#endif
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#if RELAIS_NET_TLS
#include <openssl/ssl.h>
#endif

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace relais::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
#if RELAIS_NET_TLS
namespace ssl = asio::ssl;
#endif
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kHeaderLimit = 64 * 1024;

struct Target {
    bool tls = false;
    std::string host; // without brackets for IPv6
    std::string port;
    std::string host_header;
    std::string path_and_query;
};

bool parse_target(const std::string &url, Target &t, std::string &error) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        error = "not a valid URL: \"" + url + "\"";
        return false;
    }
    std::string scheme(parsed->scheme());
    for (auto &c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http" && scheme != "https") {
        error = "unsupported URL scheme \"" + scheme + "\" (only http and https)";
        return false;
    }
    t.tls = scheme == "https";
#if !RELAIS_NET_TLS
    if (t.tls) {
        error = "https is not available in this program (its HTTP client is built without TLS): \"" + url + "\"";
        return false;
    }
#endif
    t.host = std::string(parsed->host_address());
    if (t.host.empty()) {
        error = "the URL has no host: \"" + url + "\"";
        return false;
    }
    std::string default_port = t.tls ? "443" : "80";
    t.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : default_port;
    t.host_header = std::string(parsed->encoded_host_and_port());
    if (t.port == default_port && parsed->has_port()) t.host_header = std::string(parsed->encoded_host());
    t.path_and_query = std::string(parsed->encoded_target());
    if (t.path_and_query.empty() || t.path_and_query[0] != '/') t.path_and_query = "/" + t.path_and_query;
    return true;
}

std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

#if RELAIS_NET_TLS
// One TLS context per (verify, CA file), loaded once: reading the system store on every call is slow.
std::shared_ptr<ssl::context> tls_context(bool verify, const std::string &ca_file, std::string &error) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<ssl::context>> contexts;
    std::string key = (verify ? "1" : "0") + ca_file;
    std::lock_guard lock(mutex);
    if (auto it = contexts.find(key); it != contexts.end()) return it->second;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (verify) {
        if (ca_file.empty()) ctx->set_default_verify_paths(ec);
        else ctx->load_verify_file(ca_file, ec);
        if (ec) {
            error = ca_file.empty() ? "cannot load the system's CA certificates: " + ec.message()
                                    : "cannot load CA file " + ca_file + ": " + ec.message();
            return nullptr;
        }
        ctx->set_verify_mode(ssl::verify_peer);
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
    contexts[key] = ctx;
    return ctx;
}
#endif

// One connection: its own io_context (run on the calling thread), a TCP or a TLS stream, and what it was made for.
struct Connection {
    asio::io_context ioc{1};
    std::string origin; // scheme, host, port and TLS settings: reused only for the same
    std::optional<beast::tcp_stream> tcp;
#if RELAIS_NET_TLS
    std::optional<ssl::stream<beast::tcp_stream>> tls;
#endif
    Clock::time_point idle_since;

#if RELAIS_NET_TLS
    beast::tcp_stream &timed() { return tls ? tls->next_layer() : *tcp; }
#else
    beast::tcp_stream &timed() { return *tcp; }
#endif
    // An idle connection the server has closed (or written to, which it should not have) cannot be reused.
    bool still_open() {
        auto &socket = timed().socket();
        if (!socket.is_open()) return false;
        beast::error_code ec, ignored;
        socket.non_blocking(true, ignored);
        char byte;
        size_t n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
        socket.non_blocking(false, ignored);
        return n == 0 && ec == asio::error::would_block; // nothing to read, and not closed
    }
};

} // namespace

// Idle kept-alive connections, by origin, each kept for a while after use.
struct HttpClient::Impl {
    std::mutex mutex;
    std::vector<std::unique_ptr<Connection>> idle;
    std::chrono::milliseconds keep_idle;
    size_t max_idle;

    std::unique_ptr<Connection> take(const std::string &origin) {
        std::lock_guard lock(mutex);
        auto now = Clock::now();
        std::unique_ptr<Connection> found;
        for (auto it = idle.begin(); it != idle.end();) {
            bool expired = now - (*it)->idle_since > keep_idle;
            if (!expired && !found && (*it)->origin == origin) {
                found = std::move(*it);
                it = idle.erase(it);
            } else if (expired) {
                it = idle.erase(it);
            } else {
                ++it;
            }
        }
        return found;
    }
    void put(std::unique_ptr<Connection> c) {
        std::lock_guard lock(mutex);
        c->idle_since = Clock::now();
        if (idle.size() >= max_idle) idle.erase(idle.begin()); // the oldest
        idle.push_back(std::move(c));
    }
};

namespace {

class Exchange {
public:
    // `pool` null: a new connection for this exchange, closed after it (Connection: close).
    Exchange(const ClientRequest &request, Clock::time_point deadline, HttpClient::Impl *pool)
        : request_(request), deadline_(deadline), pool_(pool) {}

    ClientResponse run(const std::string &method, const std::string &url, const std::string &body,
                       const std::vector<std::pair<std::string, std::string>> &headers) {
        ClientResponse out;
        Target t;
        if (!parse_target(url, t, out.error)) return out;
        where_ = t.host_header;

        http::request<http::string_body> req;
        req.version(11);
        if (auto v = http::string_to_verb(method); v != http::verb::unknown) req.method(v);
        else req.method_string(method);
        req.target(t.path_and_query);
        req.set(http::field::host, t.host_header);
        req.set(http::field::user_agent, "relais/0.1");
        req.set(http::field::accept, "*/*");
        for (const auto &[name, value] : headers) req.set(name, value);
        req.body() = body;
        req.keep_alive(pool_ != nullptr);
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") req.prepare_payload();
        const bool head = req.method() == http::verb::head;

        const std::string origin = (t.tls ? "https://" : "http://") + lower(t.host) + ":" + t.port + "|" +
                                   (request_.verify_tls ? "1" : "0") + request_.ca_file;
        if (pool_) {
            // A kept-alive connection the server closed meanwhile fails before any answer: then once more anew.
            while (auto reused = pool_->take(origin)) {
                if (!reused->still_open()) continue;
                conn_ = std::move(reused);
                bool answered = false;
                talk(req, head, out, answered);
                if (answered || Clock::now() >= deadline_) return finish(out);
                out = ClientResponse{};
                break;
            }
        }
        conn_ = std::make_unique<Connection>();
        conn_->origin = origin;
        if (!open(t, out)) return out;
        bool answered = false;
        talk(req, head, out, answered);
        return finish(out);
    }

private:
    void restart_and_run() {
        conn_->ioc.restart();
        conn_->ioc.run();
    }

    ClientResponse &finish(ClientResponse &out) {
        if (pool_ && reusable_) pool_->put(std::move(conn_));
        else if (conn_) {
            beast::error_code ignored;
            conn_->timed().socket().shutdown(tcp::socket::shutdown_both, ignored);
        }
        return out;
    }

    // Resolves, connects and (https) shakes hands, on a new connection.
    bool open(const Target &t, ClientResponse &out) {
        // Resolve, bounded by the deadline (the resolver has no timer of its own).
        tcp::resolver resolver(conn_->ioc);
        tcp::resolver::results_type endpoints;
        beast::error_code ec = asio::error::would_block;
        asio::steady_timer timer(conn_->ioc, deadline_);
        resolver.async_resolve(t.host, t.port, [&](beast::error_code e, tcp::resolver::results_type r) {
            ec = e;
            endpoints = std::move(r);
            timer.cancel();
        });
        timer.async_wait([&](beast::error_code e) {
            if (!e) resolver.cancel();
        });
        conn_->ioc.run();
        if (Clock::now() >= deadline_) return timed_out(out, "resolving " + t.host), false;
        if (ec) return failed(out, "cannot resolve " + t.host + ": " + ec.message()), false;

        if (!t.tls) {
            conn_->tcp.emplace(conn_->ioc);
            return connect(*conn_->tcp, endpoints, out);
        }
#if RELAIS_NET_TLS
        std::string tls_error;
        auto ctx = tls_context(request_.verify_tls, request_.ca_file, tls_error);
        if (!ctx) return failed(out, tls_error), false;
        auto &stream = conn_->tls.emplace(conn_->ioc, *ctx);
        bool is_ip = false;
        {
            beast::error_code ip_ec;
            asio::ip::make_address(t.host, ip_ec);
            is_ip = !ip_ec;
        }
        if (!is_ip && !SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()))
            return failed(out, "cannot set the TLS server name (SNI) to " + t.host), false;
        if (request_.verify_tls) stream.set_verify_callback(ssl::host_name_verification(t.host));
        if (!connect(stream.next_layer(), endpoints, out)) return false;
        stream.next_layer().expires_at(deadline_);
        ec = asio::error::would_block;
        stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
        restart_and_run();
        if (ec == beast::error::timeout) return timed_out(out, "the TLS handshake"), false;
        if (ec) return failed(out, "TLS handshake with " + where_ + " failed: " + ec.message()), false;
        return true;
#else
        return false; // parse_target refused https already
#endif
    }

    bool connect(beast::tcp_stream &stream, const tcp::resolver::results_type &endpoints, ClientResponse &out) {
        stream.expires_at(deadline_);
        beast::error_code ec = asio::error::would_block;
        stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint &) { ec = e; });
        restart_and_run();
        if (ec == beast::error::timeout) {
            timed_out(out, "connecting");
            return false;
        }
        if (ec) {
            failed(out, "cannot connect to " + where_ + ": " + ec.message());
            return false;
        }
        // A request is written whole; on a kept-alive connection Nagle's algorithm would only add delays.
        beast::error_code ignored;
        stream.socket().set_option(tcp::no_delay(true), ignored);
        return true;
    }

    void talk(http::request<http::string_body> &req, bool head, ClientResponse &out, bool &answered) {
#if RELAIS_NET_TLS
        if (conn_->tls) return talk(*conn_->tls, req, head, out, answered);
#endif
        talk(*conn_->tcp, req, head, out, answered);
    }

    // Writes the request and reads the answer. `answered`: some of the answer came (else, on a reused connection,
    // the server had closed it and the request may go again on a new one).
    template <class Stream>
    void talk(Stream &stream, http::request<http::string_body> &req, bool head, ClientResponse &out, bool &answered) {
        reusable_ = false;
        beast::tcp_stream &timed = conn_->timed();
        timed.expires_at(deadline_);
        beast::error_code ec = asio::error::would_block;
        http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
        restart_and_run();
        if (ec == beast::error::timeout) return void(timed_out(out, "sending the request"));
        if (ec) return void(failed(out, "sending the request to " + where_ + " failed: " + ec.message()));

        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.header_limit(kHeaderLimit);
        parser.body_limit(request_.max_body_bytes);
        if (head) parser.skip(true);
        timed.expires_at(deadline_);
        ec = asio::error::would_block;
        http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
        restart_and_run();
        answered = buffer.size() > 0 || parser.got_some();
#if RELAIS_NET_TLS
        if (ec == ssl::error::stream_truncated && parser.is_header_done() && !parser.is_done()) {
            // A body delimited by the end of the connection, closed without a TLS close_notify.
            ec = {};
            parser.put_eof(ec);
        } else if (ec == ssl::error::stream_truncated && parser.is_done()) {
            ec = {};
        }
#endif
        if (ec == beast::error::timeout) return void(timed_out(out, "waiting for the response"));
        if (ec == http::error::body_limit)
            return void(failed(out, "the response body is larger than " + std::to_string(request_.max_body_bytes) +
                                        " bytes"));
        if (ec == http::error::end_of_stream && !parser.is_header_done())
            return void(failed(out, where_ + " closed the connection without answering"));
        if (ec) return void(failed(out, "reading the response from " + where_ + " failed: " + ec.message()));

        // Kept for the next request when both sides said keep-alive and nothing was read past this answer.
        reusable_ = pool_ && parser.get().keep_alive() && !parser.need_eof() && buffer.size() == 0;
        auto res = parser.release();
        out.status = static_cast<int>(res.result_int());
        for (const auto &field : res) {
            auto [it, fresh] = out.headers.emplace(lower(std::string(field.name_string())), std::string(field.value()));
            if (!fresh) it->second += ", " + std::string(field.value());
        }
        out.body = std::move(res.body());
    }

    ClientResponse &timed_out(ClientResponse &out, const std::string &during) {
        out.status = 0;
        out.error = "timed out after " + std::to_string(request_.timeout.count()) + " ms (" + during + ", " +
                    (where_.empty() ? request_.url : where_) + ")";
        return out;
    }
    static ClientResponse &failed(ClientResponse &out, std::string error) {
        out.status = 0;
        out.error = std::move(error);
        return out;
    }

    const ClientRequest &request_;
    Clock::time_point deadline_;
    HttpClient::Impl *pool_;
    std::unique_ptr<Connection> conn_;
    bool reusable_ = false;
    std::string where_;
};

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string origin_of(const std::string &url) {
    Target t;
    std::string ignored;
    if (!parse_target(url, t, ignored)) return {};
    return (t.tls ? "https://" : "http://") + lower(t.host) + ":" + t.port;
}

} // namespace

namespace {
ClientResponse exchange_following_redirects(const ClientRequest &request, HttpClient::Impl *pool) {
    try {
        auto deadline = Clock::now() + request.timeout;
        std::string method = request.method.empty() ? "GET" : request.method;
        std::string url = request.url;
        std::string body = request.body;
        auto headers = request.headers;
        for (int redirects = 0;; ++redirects) {
            ClientResponse res = Exchange(request, deadline, pool).run(method, url, body, headers);
            if (!res.error.empty() || !is_redirect(res.status)) return res;
            std::string location = res.header("location");
            if (location.empty()) return res;
            if (redirects >= request.max_redirects) {
                res.error = "stopped after " + std::to_string(redirects) + " redirects (next: " + location + ")";
                return res;
            }
            auto ref = boost::urls::parse_uri_reference(location);
            if (!ref) {
                res.error = "the redirect Location is not a valid URL: \"" + location + "\"";
                return res;
            }
            boost::urls::url next(url);
            auto resolved = next.resolve(*ref);
            if (!resolved) {
                res.error = "cannot follow the redirect to \"" + location + "\"";
                return res;
            }
            next.remove_fragment();
            std::string next_url(next.buffer());
            if (res.status == 303 || ((res.status == 301 || res.status == 302) && method == "POST")) {
                if (method != "HEAD") method = "GET";
                body.clear();
                std::erase_if(headers, [](const auto &h) {
                    auto name = lower(h.first);
                    return name == "content-type" || name == "content-length";
                });
            }
            if (origin_of(next_url) != origin_of(url)) // credentials stay with the origin they were meant for
                std::erase_if(headers, [](const auto &h) {
                    auto name = lower(h.first);
                    return name == "authorization" || name == "cookie" || name == "proxy-authorization";
                });
            url = std::move(next_url);
        }
    } catch (const std::exception &e) {
        ClientResponse res;
        res.error = std::string("HTTP request failed: ") + e.what();
        return res;
    } catch (...) {
        ClientResponse res;
        res.error = "HTTP request failed with an unknown error";
        return res;
    }
}
} // namespace

ClientResponse http_request(const ClientRequest &request) { return exchange_following_redirects(request, nullptr); }

HttpClient::HttpClient(std::chrono::milliseconds keep_idle, size_t max_idle) : impl_(std::make_unique<Impl>()) {
    impl_->keep_idle = keep_idle;
    impl_->max_idle = max_idle;
}
HttpClient::~HttpClient() = default;

ClientResponse HttpClient::request(const ClientRequest &request) {
    return exchange_following_redirects(request, impl_.get());
}

namespace {

int month_index(const char *name) {
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (std::strncmp(name, months[i], 3) == 0 && name[3] == '\0') return i;
    return -1;
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850 or asctime) as Unix seconds.
std::optional<int64_t> parse_http_date(const std::string &v) {
    char wday[16] = {0}, mon[8] = {0};
    int day = 0, year = 0, hh = 0, mm = 0, ss = 0, used = 0;
    auto valid = [&](int y) -> std::optional<int64_t> {
        int m = month_index(mon);
        if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970) return std::nullopt;
        return days_from_civil(y, static_cast<unsigned>(m + 1), static_cast<unsigned>(day)) * 86400 + hh * 3600 +
               mm * 60 + ss;
    };
    // Sun, 06 Nov 1994 08:49:37 GMT
    if (std::sscanf(v.c_str(), "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hh, &mm, &ss,
                    &used) == 7 &&
        static_cast<size_t>(used) == v.size())
        return valid(year);
    // Sunday, 06-Nov-94 08:49:37 GMT
    used = 0;
    if (std::sscanf(v.c_str(), "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hh, &mm,
                    &ss, &used) == 7 &&
        static_cast<size_t>(used) == v.size())
        return valid(year < 70 ? 2000 + year : 1900 + year);
    // Sun Nov  6 08:49:37 1994
    used = 0;
    if (std::sscanf(v.c_str(), "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wday, mon, &day, &hh, &mm, &ss, &year,
                    &used) == 7 &&
        static_cast<size_t>(used) == v.size())
        return valid(year);
    return std::nullopt;
}

} // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value) {
    size_t b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t");
    if (b == std::string::npos) return std::nullopt;
    std::string v = value.substr(b, e - b + 1);
    if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
        if (v.size() > 9) return std::chrono::milliseconds(int64_t(999'999'999) * 1000); // absurd but valid
        return std::chrono::milliseconds(std::stoll(v) * 1000);
    }
    auto when = parse_http_date(v);
    if (!when) return std::nullopt;
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    auto delta = std::chrono::milliseconds(*when * 1000) - now;
    return delta.count() > 0 ? delta : std::chrono::milliseconds(0);
}

} // namespace relais::net
