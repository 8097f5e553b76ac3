// The plugin against a real local HTTP server (relais::net::HttpServer) serving a feed with validators.
#include "feed_files.hpp"

#include <relais/net/http.hpp>
#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using relais::testing::FakeHost;
using namespace rss_test;

namespace {

// A feed server: answers 304 when the client's validators match, or whatever status it is told to.
class FeedServer {
public:
    FeedServer() : server_({}, [this](const relais::net::Request &r) { return handle(r); }) { server_.start(); }

    std::string url(const std::string &path = "/feed.xml") const {
        return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
    }

    void publish(std::string body, std::string etag, std::string last_modified = {}) {
        std::lock_guard lock(mutex_);
        body_ = std::move(body);
        etag_ = std::move(etag);
        last_modified_ = std::move(last_modified);
    }
    void fail_with(int status, std::string retry_after = {}) {
        std::lock_guard lock(mutex_);
        fail_status_ = status;
        retry_after_ = std::move(retry_after);
    }
    // Until release(), requests wait (at most 10 s) before they are answered.
    void hold() {
        std::lock_guard lock(mutex_);
        held_ = true;
    }
    void release() {
        {
            std::lock_guard lock(mutex_);
            held_ = false;
        }
        released_.notify_all();
    }
    int requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    int not_modified() const {
        std::lock_guard lock(mutex_);
        return not_modified_;
    }
    relais::net::Request last() const {
        std::lock_guard lock(mutex_);
        return last_;
    }

private:
    relais::net::Response handle(const relais::net::Request &r) {
        std::unique_lock lock(mutex_);
        released_.wait_for(lock, std::chrono::seconds(10), [this] { return !held_; });
        ++requests_;
        last_ = r;
        if (r.path != "/feed.xml") return relais::net::Response::text(404, "no such feed");
        if (fail_status_) {
            relais::net::Response res = relais::net::Response::text(fail_status_, "try later");
            if (!retry_after_.empty()) res.headers.emplace_back("Retry-After", retry_after_);
            return res;
        }
        bool etag_match = !etag_.empty() && r.header("if-none-match") == etag_;
        bool date_match = etag_.empty() && !last_modified_.empty() && r.header("if-modified-since") == last_modified_;
        if (etag_match || date_match) {
            ++not_modified_;
            relais::net::Response res{304, "", "", {}};
            if (!etag_.empty()) res.headers.emplace_back("ETag", etag_);
            return res;
        }
        relais::net::Response res{200, "application/rss+xml; charset=utf-8", body_, {}};
        if (!etag_.empty()) res.headers.emplace_back("ETag", etag_);
        if (!last_modified_.empty()) res.headers.emplace_back("Last-Modified", last_modified_);
        return res;
    }

    mutable std::mutex mutex_;
    std::condition_variable released_;
    bool held_ = false;
    std::string body_, etag_, last_modified_, retry_after_;
    int fail_status_ = 0, requests_ = 0, not_modified_ = 0;
    relais::net::Request last_;
    relais::net::HttpServer server_;
};

const Item first{"1", "First", "Mon, 04 Mar 2024 10:00:00 GMT"};
const Item second{"2", "Second", "Tue, 05 Mar 2024 10:00:00 GMT"};
const Item third{"3", "Third", "Wed, 06 Mar 2024 10:00:00 GMT"};

} // namespace

TEST_CASE("HTTP: the ETag makes the second poll a 304 that emits nothing", "[plugin][http]") {
    FeedServer server;
    server.publish(rss({second, first}), "\"v1\"");
    const FakeHost::Config config{{"feeds.0.url", server.url()},
                                  {"feeds.0.headers.X-Api-Key", "secret"},
                                  {"user_agent", "rss-test/1"}};
    std::map<std::string, std::string> store;
    {
        FakeHost host(relais_plugin_entry(), config);
        host.start();
        poll(host);
        REQUIRE(host.emitted().size() == 2);
        CHECK(host.emitted()[0].native_id == "1");
        CHECK(server.last().header("user-agent") == "rss-test/1");
        CHECK(server.last().header("x-api-key") == "secret");
        CHECK(server.last().header("if-none-match").empty());

        poll(host);
        CHECK(server.requests() == 2);
        CHECK(server.not_modified() == 1);
        CHECK(server.last().header("if-none-match") == "\"v1\"");
        CHECK(host.emitted().size() == 2);

        server.publish(rss({third, second, first}), "\"v2\"");
        poll(host);
        REQUIRE(host.emitted().size() == 3);
        CHECK(host.emitted()[2].native_id == "3");
        CHECK(host.emitted()[2].meta("feed_url") == server.url());
        store = host.kv();
    }

    // A restart with the same store sends the stored ETag at once.
    FakeHost again(relais_plugin_entry(), config);
    again.kv() = store;
    again.start();
    poll(again);
    CHECK(server.last().header("if-none-match") == "\"v2\"");
    CHECK(server.not_modified() == 2);
    CHECK(again.emitted().empty());
}

TEST_CASE("HTTP: Last-Modified becomes If-Modified-Since", "[plugin][http]") {
    FeedServer server;
    const std::string date = "Wed, 06 Mar 2024 10:00:00 GMT";
    server.publish(rss({first}), "", date);
    FakeHost host(relais_plugin_entry(), {{"feeds.0", server.url()}});
    host.start();
    poll(host);
    CHECK(host.emitted().size() == 1);
    poll(host);
    CHECK(server.last().header("if-modified-since") == date);
    CHECK(server.not_modified() == 1);
}

TEST_CASE("HTTP: a refused item keeps the old validators so the next poll gets it again", "[plugin][http]") {
    FeedServer server;
    server.publish(rss({second, first}), "\"v1\"");
    FakeHost host(relais_plugin_entry(), {{"feeds.0", server.url()}});
    host.start();
    host.fail_emits(RELAIS_E_STOPPING);
    poll(host);
    CHECK(host.emitted().empty());
    host.fail_emits(RELAIS_OK);
    poll(host);
    CHECK(server.not_modified() == 0);
    CHECK(host.emitted().size() == 2);
}

TEST_CASE("HTTP: errors are counted and Retry-After on 503 is honoured", "[plugin][http]") {
    FeedServer server;
    server.publish(rss({first}), "\"v1\"");
    server.fail_with(503, "600");
    FakeHost host(relais_plugin_entry(), {{"feeds.0", server.url()}, {"interval", "1m"}});
    host.start();
    poll(host);
    CHECK(host.metric("fetch_errors") == 1);
    bool warned = false;
    for (const auto &[level, text] : host.logs())
        warned |= level == RELAIS_LOG_WARN && text.find(server.url() + ": HTTP 503") != std::string::npos &&
                  text.find("next try in 10m") != std::string::npos;
    CHECK(warned);

    server.fail_with(0);
    for (int i = 0; i < 9; ++i) poll(host, 0); // 600 s at one tick a minute: nine ticks skipped
    CHECK(server.requests() == 1);
    poll(host);
    CHECK(server.requests() == 2);
    CHECK(host.emitted().size() == 1);
}

TEST_CASE("HTTP: 404 - a refused connection - a timeout: errors not crashes", "[plugin][http]") {
    FeedServer server;
    FakeHost host(relais_plugin_entry(), {{"feeds.0", server.url("/nope.xml")}});
    host.start();
    poll(host);
    CHECK(host.metric("fetch_errors") == 1);
    bool warned = false;
    for (const auto &[level, text] : host.logs()) warned |= text.find("HTTP 404") != std::string::npos;
    CHECK(warned);

    // A port nobody listens on: bind one, note it, close it.
    uint16_t closed_port;
    {
        relais::net::HttpServer probe({}, [](const relais::net::Request &) { return relais::net::Response{}; });
        probe.start();
        closed_port = probe.port();
    }
    FakeHost refused(relais_plugin_entry(),
                     {{"feeds.0", "http://127.0.0.1:" + std::to_string(closed_port) + "/feed.xml"}});
    refused.start();
    poll(refused);
    CHECK(refused.metric("fetch_errors") == 1);
    CHECK(refused.emitted().empty());

    // A server that does not answer within `timeout`.
    server.publish(rss({first}), "");
    server.hold();
    FakeHost slow(relais_plugin_entry(), {{"feeds.0", server.url()}, {"timeout", "300ms"}});
    slow.start();
    auto started = std::chrono::steady_clock::now();
    poll(slow);
    auto took = std::chrono::steady_clock::now() - started;
    server.release();
    CHECK(took < std::chrono::seconds(5));
    CHECK(slow.metric("fetch_errors") == 1);
    bool timed_out = false;
    for (const auto &[level, text] : slow.logs()) timed_out |= text.find("timed out") != std::string::npos;
    CHECK(timed_out);
}
