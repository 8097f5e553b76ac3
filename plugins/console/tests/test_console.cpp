// console: the line formats, and the plugin writing to a real standard output (redirected to a file here).
#include <relais/message_line.hpp>

#include <relais/message_json.hpp>
#include <relais/testing/fake_host.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <fcntl.h>
#include <unistd.h>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

namespace {

using namespace relais;

Message sample() {
    Message m;
    m.id = "01HX";
    m.source = "bsky";
    m.network = "bluesky";
    m.channel = "mentions";
    m.native_id = "at://did:plc:abc/app.bsky.feed.post/1";
    m.author = "Alice";
    m.author_id = "alice.example";
    m.text = "Hello @acme";
    m.tags = {"veille"};
    m.links = {"https://bsky.app/profile/alice.example/post/1"};
    m.level = Level::public_;
    m.created_at_ms = 1700000000000; // 2023-11-14T22:13:20Z
    return m;
}

// Runs `fn` with file descriptor `fd` (1 or 2) sent to a temporary file, and returns what was written there.
template <class Fn>
std::string capture(int fd, Fn fn) {
    std::FILE *stream = fd == 1 ? stdout : stderr;
    std::fflush(stream);
    char path[] = "/tmp/relais-console-XXXXXX";
    int tmp = mkstemp(path);
    REQUIRE(tmp >= 0);
    int saved = dup(fd);
    dup2(tmp, fd);
    fn();
    std::fflush(stream);
    dup2(saved, fd);
    close(saved);
    close(tmp);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    unlink(path);
    return ss.str();
}

} // namespace

TEST_CASE("console: the text line", "[console]") {
    Message m = sample();
    Delivery d;
    d.rendered = "Alice on bluesky: Hello @acme";
    CHECK(lines::format_text(m, d, 0) == "[2023-11-14T22:13:20Z] bluesky/mentions Alice: Alice on bluesky: Hello @acme\n");

    // Without a rendered text, author name, channel or creation time: the text, author id, network, receipt time.
    m.author.clear();
    m.channel.clear();
    m.created_at_ms = 0;
    m.received_at_ms = 1700000060000;
    CHECK(lines::format_text(m, Delivery{}, 0) == "[2023-11-14T22:14:20Z] bluesky alice.example: Hello @acme\n");
    m.received_at_ms = 0;
    CHECK(lines::format_text(m, Delivery{}, 1700000120000).rfind("[2023-11-14T22:15:20Z]", 0) == 0);
}

TEST_CASE("console: a message is always one line and sends no control sequences", "[console]") {
    Message m = sample();
    Delivery d;
    d.rendered = "line one\r\nline two\x1b[31mred\x7f\ttab \xc2\x9b" "csi é";
    std::string line = lines::format_text(m, d, 0);
    CHECK(line == "[2023-11-14T22:13:20Z] bluesky/mentions Alice: line one\\nline two?[31mred? tab ?csi é\n");
    CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("console: the JSON line is the message plus rendered and to_channel", "[console]") {
    Message m = sample();
    m.text = "two\nlines";
    Delivery d;
    d.rendered = "rendered text";
    d.channel = "veille@conference.acme.example";
    std::string line = lines::format_json(m, d);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    boost::json::object o = boost::json::parse(line).as_object();
    CHECK(o.at("rendered").as_string() == "rendered text");
    CHECK(o.at("to_channel").as_string() == "veille@conference.acme.example");
    o.erase("rendered");
    o.erase("to_channel");
    Message back;
    std::string error;
    REQUIRE(message_from_json_value(o, back, error));
    CHECK(back.text == "two\nlines");
    CHECK(back.native_id == m.native_id);
    CHECK(back.tags == m.tags);
    CHECK(back.level == Level::public_);
}

TEST_CASE("console: the plugin prints each delivery on stdout, or stderr", "[console]") {
    testing::FakeHost host(relais_plugin_entry(), {});
    host.start();
    Delivery d;
    d.rendered = "first";
    std::string out = capture(1, [&] {
        CHECK(host.deliver(sample(), d).status == RELAIS_DELIVERED);
        d.rendered = "second";
        host.deliver(sample(), d);
    });
    CHECK(out == "[2023-11-14T22:13:20Z] bluesky/mentions Alice: first\n"
                 "[2023-11-14T22:13:20Z] bluesky/mentions Alice: second\n");
    CHECK(host.metric("lines_written") == 2);

    testing::FakeHost json(relais_plugin_entry(), {{"format", "json"}, {"stream", "stderr"}});
    json.start();
    std::string err = capture(2, [&] { json.deliver(sample()); });
    CHECK(boost::json::parse(err).as_object().at("id").as_string() == "01HX");
}

TEST_CASE("console: bad config values are refused with the key's name", "[console]") {
    CHECK_THROWS_WITH(testing::FakeHost(relais_plugin_entry(), {{"format", "xml"}}),
                      Catch::Contains("format: expected text or json, got \"xml\""));
    CHECK_THROWS_WITH(testing::FakeHost(relais_plugin_entry(), {{"stream", "stdlog"}}),
                      Catch::Contains("stream: expected stdout or stderr"));
}

TEST_CASE("console: a write that fails is retried with a clear error", "[console]") {
    testing::FakeHost host(relais_plugin_entry(), {});
    host.start();
    std::fflush(stdout);
    int saved = dup(1);
    int full = ::open("/dev/full", O_WRONLY);
    REQUIRE(full >= 0);
    dup2(full, 1);
    auto r = host.deliver(sample());
    dup2(saved, 1);
    close(saved);
    close(full);
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.error.find("cannot write to stdout") != std::string::npos);
    CHECK(host.metric("write_errors") == 1);

    // The retry prints the line once: nothing of the failed attempt is left in a buffer.
    std::string out = capture(1, [&] { CHECK(host.deliver(sample()).status == RELAIS_DELIVERED); });
    CHECK(out == "[2023-11-14T22:13:20Z] bluesky/mentions Alice: Hello @acme\n");
}
