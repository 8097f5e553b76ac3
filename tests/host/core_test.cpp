#include "cli/logging.hpp"
#include "core/metrics.hpp"
#include "core/timers.hpp"
#include "core/ulid.hpp"
#include "core/utf8.hpp"
#include "state/kv_store.hpp"

#include <relais/net/http.hpp>

#include <boost/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <unistd.h>

using namespace relais;

TEST_CASE("ULIDs are 26 characters and strictly increasing") {
    std::string prev = new_ulid();
    std::set<std::string> seen{prev};
    for (int i = 0; i < 10000; ++i) {
        std::string id = new_ulid();
        REQUIRE(id.size() == 26);
        REQUIRE(id > prev);
        prev = id;
        seen.insert(id);
    }
    CHECK(seen.size() == 10001);
}

TEST_CASE("invalid UTF-8 is repaired, valid text is kept") {
    CHECK(valid_utf8("héllo 🌍"));
    CHECK_FALSE(valid_utf8("bad \xff byte"));
    CHECK_FALSE(valid_utf8("overlong \xc0\xaf"));
    CHECK(repair_utf8("bad \xff byte") == "bad \xEF\xBF\xBD byte");
    CHECK(repair_utf8("cut \xe2\x82") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("metrics render in the Prometheus text format") {
    Metrics m;
    m.counter("relais_x_total", {{"source", "a\"b"}}, "help text").add(2);
    m.gauge("relais_depth").set(3);
    std::string out = m.prometheus();
    CHECK(out.find("# TYPE relais_x_total counter") != std::string::npos);
    CHECK(out.find("relais_x_total{source=\"a\\\"b\"} 2") != std::string::npos);
    CHECK(out.find("relais_depth 3") != std::string::npos);
}

TEST_CASE("the key-value store keeps values per namespace across reopening") {
    auto path = std::filesystem::temp_directory_path() / "relais-kv-test.db";
    std::filesystem::remove(path);
    {
        KvStore kv(path.string());
        REQUIRE(kv.put("rss", "cursor", "42"));
        REQUIRE(kv.put("other", "cursor", "7"));
        REQUIRE(kv.put("rss", "cursor", "43"));
    }
    KvStore kv(path.string());
    CHECK(kv.get("rss", "cursor") == "43");
    CHECK(kv.get("other", "cursor") == "7");
    CHECK(kv.erase("rss", "cursor"));
    CHECK_FALSE(kv.get("rss", "cursor"));
}

TEST_CASE("a cancelled timer does not run again") {
    Timers timers(1);
    std::atomic<int> runs{0};
    uint64_t id = timers.start(0, 1, [&] { ++runs; });
    while (runs < 3) std::this_thread::yield();
    timers.cancel(id);
    int after = runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(runs == after);
}

// The host links the HTTP client without TLS (it only talks to its own admin endpoints): an https URL is refused
// with a reason, and plain http still works, here against the host's own HTTP server.
TEST_CASE("the host's HTTP client speaks plain http only, and says so for https") {
    net::ClientRequest tls;
    tls.url = "https://127.0.0.1:1/healthz";
    net::ClientResponse refused = net::http_request(tls);
    CHECK(refused.status == 0);
    CHECK(refused.error.find("without TLS") != std::string::npos);

    net::HttpServer::Options options;
    options.port = 0;
    net::HttpServer server(options, [](const net::Request &r, net::HttpServer::Reply reply) {
        reply(net::Response::text(200, "hello " + r.path));
    });
    server.start();
    net::ClientRequest plain;
    plain.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/healthz";
    net::ClientResponse answered = net::http_request(plain);
    CHECK(answered.status == 200);
    CHECK(answered.body == "hello /healthz");
    server.stop();
}

TEST_CASE("JSON log lines stay JSON whatever the message holds: quotes, line breaks, control bytes, Latin-1") {
    char path[] = "/tmp/relais-log-XXXXXX";
    int captured = mkstemp(path);
    REQUIRE(captured >= 0);
    std::fflush(stderr);
    int saved = dup(2);
    dup2(captured, 2);
    setup_logging("info", "json");
    spdlog::info("caf\xe9 said \"hi\"\\\n\x01");
    spdlog::default_logger()->flush();
    dup2(saved, 2);
    close(saved);
    spdlog::drop_all(); // the next tests log as before
    spdlog::set_default_logger(spdlog::stderr_color_mt("after-json-test"));
    spdlog::set_pattern("%+");
    std::ifstream in(path);
    std::string line;
    REQUIRE(std::getline(in, line));
    close(captured);
    std::filesystem::remove(path);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    INFO(line);
    REQUIRE_FALSE(ec);
    CHECK(v.at("level").as_string() == "info");
    CHECK(v.at("msg").as_string() == "caf\xEF\xBF\xBD said \"hi\"\\\n\x01");
}
