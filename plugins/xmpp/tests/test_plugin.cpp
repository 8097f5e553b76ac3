// The xmpp plugin through the real ABI (FakeHost): its config is checked before anything connects, and a delivery
// while no server answers is retried, never lost. The connection itself is tested against a real Prosody in
// tests/integration/test_xmpp.py.
#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using relais::Message;
using relais::testing::FakeHost;

namespace {
std::string create_error(FakeHost::Config config) {
    try {
        FakeHost host(relais_plugin_entry(), std::move(config));
    } catch (const std::exception &e) {
        return e.what();
    }
    return {};
}
} // namespace

TEST_CASE("config: mistakes name the key and what to write") {
    FakeHost::Config ok{{"jid", "bot@localhost"}, {"password", "x"}, {"rooms.0", "team@conference.localhost"}};
    CHECK(create_error(ok).empty());
    auto with = [&](std::string key, std::string value) {
        auto c = ok;
        c.emplace_back(std::move(key), std::move(value));
        return create_error(c);
    };
    CHECK(create_error({{"jid", "bot"}, {"password", "x"}}).find("jid: \"bot\" is not an account JID") != std::string::npos);
    CHECK(with("tls", "maybe").find("tls: expected starttls, direct or plaintext") != std::string::npos);
    CHECK(with("port", "5222").find("port: a port needs `server` too") != std::string::npos);
    CHECK(with("direct.0", "not a jid").find("direct.0: ") != std::string::npos);
    CHECK(with("max_length", "3").find("max_length: ") != std::string::npos);
    CHECK(create_error({{"jid", "bot@localhost"}, {"password", "x"}, {"rooms.0", "a/b"}}).find("rooms.0: ") != std::string::npos);
}

TEST_CASE("a delivery while the server is unreachable is retried, and names why") {
    // A port nothing listens on: connecting fails at once and is retried in the background.
    FakeHost host(relais_plugin_entry(), {{"jid", "bot@localhost"}, {"password", "x"}, {"server", "127.0.0.1"},
                                          {"port", "1"}, {"tls", "plaintext"}, {"rooms.0", "team@conference.localhost"},
                                          {"send_timeout", "300ms"}, {"reconnect_min", "50ms"},
                                          {"reconnect_max", "100ms"}});
    host.start();
    Message m;
    m.text = "hello";
    auto r = host.deliver(m);
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.error.find("not connected") != std::string::npos);
    host.stop();
    bool logged = false;
    for (const auto &[level, text] : host.logs())
        if (text.find("could not connect to 127.0.0.1:1") != std::string::npos) logged = true;
    CHECK(logged);
}
