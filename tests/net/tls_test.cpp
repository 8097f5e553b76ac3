// http_request() over TLS against a real local TLS server (Asio's SSL stream) with a certificate made for the test
// by the openssl command: verification with a CA file, host name checks, SNI, verify_tls=false.
#include <relais/net/http.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

using namespace relais::net;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
namespace fs = std::filesystem;

namespace {

// A self-signed certificate for "localhost" only (no IP address in it), made once per run.
struct TestCert {
    fs::path dir, cert, key;
    TestCert() {
        dir = fs::temp_directory_path() / ("relais-net-tls-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        cert = dir / "cert.pem";
        key = dir / "key.pem";
        std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                          "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout " +
                          key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
    }
    ~TestCert() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

const TestCert &test_cert() {
    static TestCert cert;
    return cert;
}

// Answers each request with "secure <target>" and remembers the SNI name the client sent.
class TlsServer {
public:
    TlsServer() : ctx_(ssl::context::tls_server), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
        ctx_.use_certificate_chain_file(test_cert().cert.string());
        ctx_.use_private_key_file(test_cert().key.string(), ssl::context::pem);
        accept();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~TlsServer() {
        asio::post(ioc_, [this] { acceptor_.close(); });
        thread_.join();
    }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string sni() {
        std::lock_guard lock(mutex_);
        return sni_;
    }

private:
    void accept() {
        acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;
            serve(std::move(socket));
            accept();
        });
    }
    void serve(tcp::socket socket) {
        ssl::stream<tcp::socket> stream(std::move(socket), ctx_);
        beast::error_code ec;
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) return; // the client refused our certificate
        if (const char *name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
            std::lock_guard lock(mutex_);
            sni_ = name;
        }
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        if (ec) return;
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/plain");
        res.body() = "secure " + std::string(req.target());
        res.keep_alive(false);
        res.prepare_payload();
        http::write(stream, res, ec);
        stream.shutdown(ec);
    }

    asio::io_context ioc_;
    ssl::context ctx_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::mutex mutex_;
    std::string sni_;
};

ClientResponse fetch(const std::string &url, bool verify, const std::string &ca_file) {
    ClientRequest req;
    req.url = url;
    req.verify_tls = verify;
    req.ca_file = ca_file;
    req.timeout = std::chrono::seconds(5);
    return http_request(req);
}

} // namespace

TEST_CASE("client over TLS: verified against a CA file, with SNI", "[net][client][tls]") {
    TlsServer server;
    std::string url = "https://localhost:" + std::to_string(server.port()) + "/path?q=1";
    auto res = fetch(url, true, test_cert().cert.string());
    INFO(res.error);
    REQUIRE(res.error.empty());
    CHECK(res.status == 200);
    CHECK(res.body == "secure /path?q=1");
    CHECK(server.sni() == "localhost");
}

TEST_CASE("client over TLS: an unknown CA, a wrong host name or a missing CA file are refused", "[net][client][tls]") {
    TlsServer server;
    std::string port = std::to_string(server.port());

    auto res = fetch("https://localhost:" + port + "/", true, ""); // the system store does not know our CA
    CHECK(res.status == 0);
    CHECK(res.error.find("TLS handshake") != std::string::npos);

    res = fetch("https://127.0.0.1:" + port + "/", true, test_cert().cert.string()); // not in the certificate
    CHECK(res.status == 0);
    CHECK(res.error.find("TLS handshake") != std::string::npos);

    res = fetch("https://localhost:" + port + "/", true, "/nonexistent/ca.pem");
    CHECK(res.status == 0);
    CHECK(res.error.find("/nonexistent/ca.pem") != std::string::npos);
}

TEST_CASE("client over TLS: verify_tls=false accepts any certificate", "[net][client][tls]") {
    TlsServer server;
    auto res = fetch("https://127.0.0.1:" + std::to_string(server.port()) + "/x", false, "");
    INFO(res.error);
    REQUIRE(res.error.empty());
    CHECK(res.body == "secure /x");
}
