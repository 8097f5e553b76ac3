// The XRPC client and the plugin's posting path against a scripted server on a local port: an expired session is
// refreshed (or signed in again), a 429 becomes a retry after the ratelimit-reset time.
#include "xrpc.hpp"

#include <relais/net/http.hpp>
#include <relais/testing/fake_host.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using namespace bluesky;
namespace json = boost::json;

namespace {

std::string base64url(const std::string &in) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char c : in) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 6) {
            out += table[(buffer >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits) out += table[(buffer << (6 - bits)) & 63];
    return out;
}

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string jwt(const std::string &name, int64_t exp) {
    return base64url("{\"alg\":\"HS256\"}") + "." + base64url("{\"sub\":\"" + name + "\",\"exp\":" +
                                                              std::to_string(exp) + "}") + ".sig";
}

// A PDS that answers what the tests need, and can be told to expire tokens or to rate-limit.
struct ScriptedPds {
    std::mutex mutex;
    std::string valid_access;           // the only access token createRecord accepts
    std::string valid_refresh = "none"; // the only refresh token refreshSession accepts
    int64_t access_exp = now_s() + 7200;
    int logins = 0, refreshes = 0, creates = 0;
    int rate_limited = 0;               // answer this many createRecord calls with 429
    int64_t reset_at = 0;
    std::vector<std::string> records;
    relais::net::HttpServer server{relais::net::HttpServer::Options{}, [this](const relais::net::Request &r) {
                                       return handle(r);
                                   }};

    ScriptedPds() { server.start(); }
    std::string url() { return "http://127.0.0.1:" + std::to_string(server.port()); }

    relais::net::Response session(int n) {
        valid_access = jwt("access" + std::to_string(n), access_exp);
        valid_refresh = "refresh" + std::to_string(n);
        json::object body{{"accessJwt", valid_access}, {"refreshJwt", valid_refresh}, {"did", "did:plc:acme"},
                          {"handle", "acme.test"}};
        return relais::net::Response::json(200, json::serialize(body));
    }

    relais::net::Response handle(const relais::net::Request &r) {
        std::lock_guard lock(mutex);
        std::string auth = r.header("authorization");
        std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
        if (r.path == "/xrpc/com.atproto.server.createSession") {
            auto body = json::parse(r.body);
            if (body.at("password") != "app-pass")
                return relais::net::Response::json(
                    401, R"({"error":"AuthenticationRequired","message":"Invalid identifier or password"})");
            return session(++logins + 100);
        }
        if (r.path == "/xrpc/com.atproto.server.refreshSession") {
            if (token != valid_refresh)
                return relais::net::Response::json(400, R"({"error":"ExpiredToken","message":"Token has expired"})");
            return session(++refreshes + 200);
        }
        if (r.path == "/xrpc/com.atproto.repo.createRecord") {
            if (token != valid_access)
                return relais::net::Response::json(400, R"({"error":"ExpiredToken","message":"Token has expired"})");
            if (rate_limited > 0) {
                --rate_limited;
                auto res = relais::net::Response::json(
                    429, R"({"error":"RateLimitExceeded","message":"Rate Limit Exceeded"})");
                res.headers = {{"ratelimit-limit", "5000"}, {"ratelimit-remaining", "0"},
                               {"ratelimit-reset", std::to_string(reset_at)}};
                return res;
            }
            ++creates;
            auto body = json::parse(r.body);
            records.push_back(json::serialize(body));
            std::string rkey(body.at("rkey").as_string());
            return relais::net::Response::json(
                200, R"({"uri":"at://did:plc:acme/app.bsky.feed.post/)" + rkey + R"(","cid":"bafyx"})");
        }
        return relais::net::Response::json(404, R"({"error":"MethodNotImplemented"})");
    }
};

Xrpc::Options options(const std::string &url, const std::string &password) {
    Xrpc::Options o;
    o.service = url;
    o.identifier = "acme.test";
    o.password = password;
    return o;
}

} // namespace

TEST_CASE("retry_after_ms reads ratelimit-reset (Unix seconds), else Retry-After") {
    int64_t now_ms = 1'800'000'000'000;
    CHECK(retry_after_ms({{"ratelimit-reset", "1800000030"}}, now_ms) == 30'000);
    CHECK(retry_after_ms({{"ratelimit-reset", "1700000000"}}, now_ms) == 0); // already past
    CHECK(retry_after_ms({{"ratelimit-reset", "soon"}, {"retry-after", "12"}}, now_ms) == 12'000);
    CHECK(retry_after_ms({{"ratelimit-reset", "1900000000"}}, now_ms) == 3'600'000); // capped at an hour
    CHECK(retry_after_ms({}, now_ms) == 0);
}

TEST_CASE("jwt_expiry reads the exp claim") {
    CHECK(jwt_expiry(jwt("x", 1234567890)) == 1234567890);
    CHECK_FALSE(jwt_expiry("not-a-jwt"));
    CHECK_FALSE(jwt_expiry("a.!!!.c"));
}

TEST_CASE("an expired access token is refreshed, and a dead refresh token leads to a new sign-in") {
    ScriptedPds pds;
    Xrpc xrpc(options(pds.url(), "app-pass"));
    json::object body{{"repo", "did:plc:acme"}, {"collection", "app.bsky.feed.post"}, {"rkey", "3k"},
                      {"record", json::object{{"text", "x"}}}};
    CHECK(xrpc.procedure_authed("com.atproto.repo.createRecord", body).ok());
    CHECK(xrpc.logins() == 1);

    { // the server expires the access token: one refresh, then the call succeeds
        std::lock_guard lock(pds.mutex);
        pds.valid_access = "something-else";
    }
    auto r = xrpc.procedure_authed("com.atproto.repo.createRecord", body);
    CHECK(r.ok());
    CHECK(xrpc.refreshes() == 1);
    CHECK(xrpc.logins() == 1);

    { // both tokens dead: the refresh fails, the client signs in again
        std::lock_guard lock(pds.mutex);
        pds.valid_access = "gone";
        pds.valid_refresh = "gone";
    }
    CHECK(xrpc.procedure_authed("com.atproto.repo.createRecord", body).ok());
    CHECK(xrpc.logins() == 2);
    CHECK(pds.creates == 3);
}

TEST_CASE("a session close to its expiry is refreshed before use") {
    ScriptedPds pds;
    pds.access_exp = now_s() + 60; // inside the five-minute margin
    Xrpc xrpc(options(pds.url(), "app-pass"));
    CHECK(xrpc.ensure_session().empty());
    CHECK(xrpc.ensure_session().empty());
    CHECK(xrpc.refreshes() == 1);
}

TEST_CASE("a wrong app password is reported, naming the account and what to check") {
    ScriptedPds pds;
    Xrpc xrpc(options(pds.url(), "wrong"));
    std::string why = xrpc.ensure_session();
    CHECK(why.find("cannot sign in to " + pds.url() + " as acme.test") != std::string::npos);
    CHECK(why.find("check identifier and app_password") != std::string::npos);
}

TEST_CASE("plugin: a 429 is a retry after ratelimit-reset, the retry posts once, under the same record key") {
    ScriptedPds pds;
    pds.rate_limited = 1;
    pds.reset_at = now_s() + 20;
    relais::testing::FakeHost host(relais_plugin_entry(), {{"service", pds.url()},
                                                           {"identifier", "acme.test"},
                                                           {"app_password", "app-pass"},
                                                           {"watch", "false"}});
    host.start();
    relais::Message m;
    m.text = "hello";
    auto first = host.deliver(m, {"", "hello", "key-1", 1, ""});
    CHECK(first.status == RELAIS_RETRY);
    CHECK(first.retry_after_ms > 15'000);
    CHECK(first.retry_after_ms <= 20'000);
    CHECK(first.error.find("429 RateLimitExceeded") != std::string::npos);
    auto second = host.deliver(m, {"", "hello", "key-1", 2, ""});
    REQUIRE(second.status == RELAIS_DELIVERED);
    CHECK(second.native_id.rfind("at://did:plc:acme/app.bsky.feed.post/", 0) == 0);
    REQUIRE(pds.records.size() == 1);
    CHECK(pds.records[0].find(second.native_id.substr(second.native_id.rfind('/') + 1)) != std::string::npos);
}

TEST_CASE("plugin: a server that is not there is a retry with a clear error, config errors name the key") {
    relais::testing::FakeHost host(relais_plugin_entry(), {{"service", "http://127.0.0.1:1"},
                                                           {"identifier", "acme.test"},
                                                           {"app_password", "app-pass"},
                                                           {"watch", "false"}, {"timeout", "2s"}});
    host.start();
    relais::Message m;
    auto r = host.deliver(m, {"", "hello", "k", 1, ""});
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.error.find("cannot sign in to http://127.0.0.1:1") != std::string::npos);
    CHECK_THROWS_WITH(relais::testing::FakeHost(relais_plugin_entry(), {{"service", "bsky.social"},
                                                                        {"identifier", "a"},
                                                                        {"app_password", "b"}}),
                      Catch::Contains("service: expected an http:// or https:// URL"));
}
