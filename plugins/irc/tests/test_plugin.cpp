// The irc plugin through the real ABI (FakeHost) against a scripted IRC server on a real local socket.
#include "peer.hpp"

#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <thread>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using relais::Message;
using relais::testing::FakeHost;
using relais::irc::testing::Peer;
using namespace std::chrono_literals;

namespace {

FakeHost::Config base_config(int port, FakeHost::Config extra = {}) {
    FakeHost::Config c{{"server", "127.0.0.1"}, {"port", std::to_string(port)}, {"nick", "relais"},
                       {"channels.0", "#a"}, {"reconnect_min", "50ms"}, {"reconnect_max", "200ms"},
                       {"send_timeout", "5s"}};
    for (auto &kv : extra) {
        bool replaced = false;
        for (auto &old : c)
            if (old.first == kv.first) old.second = kv.second, replaced = true;
        if (!replaced) c.push_back(kv);
    }
    return c;
}

bool logged(const FakeHost &host, const std::string &needle) {
    for (const auto &[level, text] : host.logs())
        if (text.find(needle) != std::string::npos) return true;
    return false;
}

// The result of a delivery, while the peer answers the connector's PINGs (a delivery is done once confirmed).
relais::DeliverResult finish(Peer &peer, std::future<relais::DeliverResult> &result) {
    peer.serve_until([&] { return result.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready; });
    return result.get();
}

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (f()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return f();
}

// Accepts the connector and answers its registration as a server without CAP would; returns the NICK it used.
std::string register_client(Peer &peer, bool caps = false) {
    REQUIRE(peer.accept());
    REQUIRE(peer.expect("CAP LS"));
    if (caps) {
        peer.send(":srv CAP * LS * :server-time message-tags");
        peer.send(":srv CAP * LS :echo-message batch sasl=PLAIN");
    } else {
        peer.send(":srv 421 * CAP :Unknown command");
    }
    auto nick = peer.expect("NICK ");
    REQUIRE(nick);
    REQUIRE(peer.expect("USER "));
    return nick->substr(5);
}

// Registers the connector configured with channels #a and #closed: the server lets it into #a, bans it from #closed.
void join_a_refused_closed(Peer &peer, FakeHost &host) {
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    REQUIRE(peer.expect("JOIN #closed"));
    peer.send(":relais!~relais@127.0.0.1 JOIN :#a");
    peer.send(":srv 474 relais #closed :Cannot join channel (+b)");
    REQUIRE(eventually([&] { return logged(host, "cannot join #closed"); }));
}

} // namespace

TEST_CASE("config errors name the key and say what to write") {
    auto error_of = [](FakeHost::Config c) {
        try {
            FakeHost host(relais_plugin_entry(), std::move(c));
        } catch (const std::exception &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error_of({{"nick", "relais"}}).find("server: is required") != std::string::npos);
    CHECK(error_of(base_config(6667, {{"nick", "9lives"}})).find("nick: ") != std::string::npos);
    CHECK(error_of(base_config(6667, {{"channels.0", "team"}})).find("channels.0: ") != std::string::npos);
    CHECK(error_of(base_config(6667, {{"rate", "0"}})).find("rate: ") != std::string::npos);
    CHECK(error_of(base_config(6667, {{"port", "70000"}})).find("port: ") != std::string::npos);
    CHECK(error_of(base_config(6667, {{"sasl_username", "bot"}})).find("sasl_password: ") != std::string::npos);
    CHECK(error_of(base_config(6667)).empty());
}

TEST_CASE("the constructor opens nothing, deliver before any connection asks the host to retry") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port(), {{"send_timeout", "200ms"}}));
    CHECK_FALSE(peer.accept(200ms)); // not started: no connection
    host.start();
    Message m;
    m.text = "hello";
    auto r = host.deliver(m);
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.error.find("not connected") != std::string::npos);
}

TEST_CASE("registration: nick in use, CAP and SASL, join, PING, then messages in and out") {
    Peer peer;
    FakeHost host(relais_plugin_entry(),
                  base_config(peer.port(), {{"sasl_username", "bot"}, {"sasl_password", "secret"}}));
    host.start();
    REQUIRE(peer.accept());
    REQUIRE(peer.expect("CAP LS 302"));
    REQUIRE(peer.expect("NICK relais"));
    REQUIRE(peer.expect("USER relais 0 * :Relais bridge"));
    peer.send(":srv CAP * LS * :server-time message-tags");
    peer.send(":srv CAP * LS :echo-message batch sasl=PLAIN");
    auto req = peer.expect("CAP REQ");
    REQUIRE(req);
    CHECK(*req == "CAP REQ :server-time message-tags echo-message batch sasl");
    peer.send(":srv 433 * relais :Nickname already in use");
    CHECK(peer.expect("NICK relais_"));
    peer.send(":srv CAP relais_ ACK :server-time message-tags echo-message batch sasl");
    REQUIRE(peer.expect("AUTHENTICATE PLAIN"));
    peer.send("AUTHENTICATE +");
    auto auth = peer.expect("AUTHENTICATE ");
    REQUIRE(auth);
    CHECK(*auth == "AUTHENTICATE Ym90AGJvdABzZWNyZXQ="); // base64("bot\0bot\0secret")
    peer.send(":srv 903 relais_ :SASL authentication successful");
    REQUIRE(peer.expect("CAP END"));
    peer.send(":srv 001 relais_ :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    peer.send(":relais_!~relais@127.0.0.1 JOIN #a");
    peer.send("PING :token-42");
    CHECK(peer.expect("PONG token-42"));
    CHECK(logged(host, "the nick relais is refused"));
    CHECK(logged(host, "SASL PLAIN login as bot accepted"));

    // In: tags give the native id and the time; own echoes, private messages and other CTCP are not relayed.
    peer.send("@msgid=m1;time=2026-11-26T09:00:00.250Z :alice!al@example.org PRIVMSG #a :hello world");
    peer.send(":relais_!~relais@127.0.0.1 PRIVMSG #a :my own echo");
    peer.send(":alice!al@example.org PRIVMSG relais_ :a private word");
    peer.send(":alice!al@example.org PRIVMSG #a :\x01VERSION\x01");
    peer.send(":bob!b@example.org PRIVMSG #a :\x01" "ACTION waves\x01");
    REQUIRE(eventually([&] { return host.emitted().size() >= 2; }));
    std::this_thread::sleep_for(100ms);
    auto got = host.emitted();
    REQUIRE(got.size() == 2);
    CHECK(got[0].channel == "#a");
    CHECK(got[0].author == "alice");
    CHECK(got[0].author_id == "alice!al@example.org");
    CHECK(got[0].text == "hello world");
    CHECK(got[0].native_id == "m1");
    CHECK(got[0].created_at_ms == 1795683600250LL);
    CHECK(got[1].text == "waves");
    CHECK(got[1].meta("irc.action") == "true");

    // Out: one PRIVMSG per line; ok only once written.
    Message m;
    m.text = "first line\nsecond line";
    auto result = std::async(std::launch::async, [&] { return host.deliver(m); });
    CHECK(peer.expect("PRIVMSG #a :first line"));
    CHECK(peer.expect("PRIVMSG #a :second line"));
    CHECK(finish(peer, result).status == RELAIS_DELIVERED);
}

TEST_CASE("bad input: malformed and over-long lines are logged and skipped, the connection carries on") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port()));
    host.start();
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    peer.send(":relais!~relais@127.0.0.1 JOIN :#a");
    peer.send(":only-a-prefix");
    peer.send("@=broken :x PRIVMSG #a :y");
    peer.send(":alice!a@h PRIVMSG #a :" + std::string(20000, 'z'));
    peer.send(":alice!a@h PRIVMSG #a :still here");
    REQUIRE(eventually([&] { return host.emitted().size() == 1; }));
    CHECK(host.emitted()[0].text == "still here");
    CHECK(logged(host, "ignored a malformed line"));
    CHECK(logged(host, "ignored an over-long line"));
    CHECK(host.metric("malformed_lines") == 2);
    CHECK(host.metric("overlong_lines") == 1);
}

TEST_CASE("a channel that refuses the bot: a clear log line, deliveries retried, other channels still work") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port(), {{"channels.1", "#closed"}}));
    host.start();
    join_a_refused_closed(peer, host);
    Message m;
    m.text = "for the closed room";
    auto refused = host.deliver(m, {"#closed", "", "k1", 1, ""});
    CHECK(refused.status == RELAIS_RETRY);
    CHECK(refused.error.find("474") != std::string::npos);
    m.text = "for the open room";
    auto result = std::async(std::launch::async, [&] { return host.deliver(m, {"#a", "", "k2", 1, ""}); });
    CHECK(peer.expect("PRIVMSG #a :for the open room"));
    CHECK(finish(peer, result).status == RELAIS_DELIVERED);
}

TEST_CASE("long texts are split under 512 bytes on UTF-8 boundaries, in order") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port()));
    host.start();
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    peer.send(":relais!~relais@127.0.0.1 JOIN :#a");
    std::string text;
    for (int i = 0; i < 400; ++i) text += "\xc3\xa9t\xc3\xa9 "; // "été " x 400: 2,800 bytes
    Message m;
    m.text = text;
    auto result = std::async(std::launch::async, [&] { return host.deliver(m); });
    std::string back;
    while (back.size() < text.size()) {
        auto l = peer.expect("PRIVMSG #a :", 3s);
        REQUIRE(l);
        std::string relayed = ":relais!~relais@127.0.0.1 " + *l + "\r\n";
        CHECK(relayed.size() <= 512);
        back += l->substr(12);
    }
    CHECK(back == text);
    CHECK(finish(peer, result).status == RELAIS_DELIVERED);
}

TEST_CASE("flood control queues lines instead of dropping them, at the configured rate") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port(), {{"burst", "3"}, {"rate", "20"}}));
    host.start();
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    peer.send(":relais!~relais@127.0.0.1 JOIN :#a");
    std::string text;
    for (int i = 0; i < 23; ++i) text += "line " + std::to_string(i) + "\n";
    Message m;
    m.text = text;
    auto start = std::chrono::steady_clock::now();
    auto result = std::async(std::launch::async, [&] { return host.deliver(m); });
    for (int i = 0; i < 23; ++i) REQUIRE(peer.expect("PRIVMSG #a :line " + std::to_string(i) + "", 5s));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(finish(peer, result).status == RELAIS_DELIVERED);
    CHECK(seconds >= 0.95); // 3 at once, then 20 at 20/s
    CHECK(seconds < 3.0);
}

TEST_CASE("a lost connection: deliveries are retried, the connector reconnects and rejoins") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port(), {{"send_timeout", "300ms"}}));
    host.start();
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    peer.send(":relais!~relais@127.0.0.1 JOIN :#a");
    REQUIRE(eventually([&] { return logged(host, "joined #a"); }));
    peer.drop();
    REQUIRE(eventually([&] { return logged(host, "disconnected from"); }));
    Message m;
    m.text = "while away";
    CHECK(host.deliver(m).status == RELAIS_RETRY);
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    peer.send(":relais!~relais@127.0.0.1 JOIN :#a");
    auto result = std::async(std::launch::async, [&] { return host.deliver(m); });
    CHECK(peer.expect("PRIVMSG #a :while away"));
    CHECK(finish(peer, result).status == RELAIS_DELIVERED);
}

TEST_CASE("messages the host does not accept are kept and offered again, in order") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port()));
    host.start();
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    host.fail_emits(RELAIS_E_STORAGE);
    peer.send(":alice!a@h PRIVMSG #a :one");
    peer.send(":alice!a@h PRIVMSG #a :two");
    REQUIRE(eventually([&] { return host.metric("messages_received") == 2; }));
    CHECK(logged(host, "did not accept"));
    CHECK(host.emitted().empty());
    host.fail_emits(RELAIS_OK); // offered again a second later, by the plugin's own emitter
    REQUIRE(eventually([&] { return host.emitted().size() == 2; }));
    auto got = host.emitted();
    CHECK(got[0].text == "one");
    CHECK(got[1].text == "two");
}

TEST_CASE("what is read while the host stores goes to it as one batch, in order, or line by line to an older host") {
    const bool batches = GENERATE(true, false);
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port()));
    host.offer_emit_batch(batches);
    host.start();
    register_client(peer);
    peer.send(":srv 001 relais :Welcome");
    REQUIRE(peer.expect("JOIN #a"));
    host.fail_emits(RELAIS_E_STORAGE); // the host is busy: lines wait in the connector
    for (int i = 0; i < 300; ++i) peer.send(":alice!a@h PRIVMSG #a :line " + std::to_string(i));
    REQUIRE(eventually([&] { return host.metric("messages_received") == 300; }));
    host.fail_emits(RELAIS_OK);
    REQUIRE(eventually([&] { return host.emitted().size() == 300; }));
    auto got = host.emitted();
    for (int i = 0; i < 300; ++i) CHECK(got[i].text == "line " + std::to_string(i));
    if (batches) CHECK(host.emit_batch_sizes() == std::vector<size_t>{256, 44}); // at most 256 a commit
    else CHECK(host.emit_batch_sizes().empty());
}

TEST_CASE("a backlog of deliveries is written in one go and confirmed by one PING, and a refusal stops the batch") {
    Peer peer;
    FakeHost host(relais_plugin_entry(), base_config(peer.port(), {{"channels.1", "#closed"}, {"burst", "100"}}));
    host.start();
    join_a_refused_closed(peer, host);

    std::vector<relais::BatchItem> items;
    for (int i = 0; i < 20; ++i) {
        Message m;
        m.text = "backlog " + std::to_string(i);
        items.push_back({m, {"#a", "", "k" + std::to_string(i), 1, ""}});
    }
    const int pings_before = peer.pings();
    auto results = std::async(std::launch::async, [&] { return host.deliver_batch(items); });
    for (int i = 0; i < 20; ++i) CHECK(peer.expect("PRIVMSG #a :backlog " + std::to_string(i)));
    peer.serve_until([&] { return results.wait_for(0ms) == std::future_status::ready; });
    auto delivered = results.get();
    REQUIRE(delivered.size() == 20);
    for (const auto &r : delivered) CHECK(r.status == RELAIS_DELIVERED);
    CHECK(peer.pings() - pings_before <= 2); // not one a message
    CHECK(host.metric("messages_sent") == 20);

    items[2].delivery.channel = "#closed"; // the third cannot go: the first two do, the rest are offered again
    auto partial = std::async(std::launch::async, [&] { return host.deliver_batch(items); });
    CHECK(peer.expect("PRIVMSG #a :backlog 0"));
    CHECK(peer.expect("PRIVMSG #a :backlog 1"));
    peer.serve_until([&] { return partial.wait_for(0ms) == std::future_status::ready; });
    auto stopped = partial.get();
    REQUIRE(stopped.size() == 3);
    CHECK(stopped[0].status == RELAIS_DELIVERED);
    CHECK(stopped[1].status == RELAIS_DELIVERED);
    CHECK(stopped[2].status == RELAIS_RETRY);
    CHECK(stopped[2].error.find("474") != std::string::npos);
    CHECK_FALSE(peer.line(200ms)); // nothing after the refusal was written
}
