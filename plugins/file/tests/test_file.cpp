// file: the plugin appending to real files in a temporary folder, driven through the ABI with FakeHost.
#include <relais/message_json.hpp>
#include <relais/testing/fake_host.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using namespace relais;
using testing::FakeHost;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "relais-file-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::vector<std::string> lines(const fs::path &p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

Message full_message() {
    Message m;
    m.id = "01HXYZ";
    m.source = "rse";
    m.network = "xmpp";
    m.channel = "veille@conference.acme.example";
    m.native_id = "abc-123";
    m.kind = Kind::reply;
    m.author = "Alice Martin";
    m.author_id = "alice@acme.example";
    m.text = "Deux lignes\net des \"guillemets\" é 🙂";
    m.tags = {"veille", "archive"};
    m.mentions = {"bob@acme.example"};
    m.links = {"https://example.org/1"};
    m.attachments = {{"https://example.org/a.pdf", "application/pdf", "a.pdf", 4096}};
    m.thread_id = "thread-9";
    m.reply_to = "abc-100";
    m.level = Level::confidential;
    m.language = "fr";
    m.created_at_ms = 1700000000000;
    m.received_at_ms = 1700000000250;
    m.trace = {"rse", "router"};
    m.metadata = {{"room", "veille"}};
    return m;
}

} // namespace

TEST_CASE("file: JSON lines parse back into the same message", "[file]") {
    TempDir dir;
    FakeHost host(relais_plugin_entry(), {{"path", "out/messages.jsonl"}}, "file", dir.path.string());
    host.start();
    Message m = full_message();
    Delivery d;
    d.rendered = "Alice Martin: Deux lignes";
    d.channel = "general";
    auto first = host.deliver(m, d);
    REQUIRE(first.status == RELAIS_DELIVERED);
    CHECK(first.native_id == "0");
    auto second = host.deliver(m, d);
    REQUIRE(second.status == RELAIS_DELIVERED);
    CHECK(std::stoul(second.native_id) > 0); // the byte offset of the second line

    auto got = lines(dir.path / "out/messages.jsonl"); // relative to the data folder; the folder is created
    REQUIRE(got.size() == 2);
    CHECK(got[0] == got[1]);
    boost::json::object o = boost::json::parse(got[0]).as_object();
    CHECK(o.at("rendered").as_string() == "Alice Martin: Deux lignes");
    CHECK(o.at("to_channel").as_string() == "general");
    o.erase("rendered");
    o.erase("to_channel");
    Message back;
    std::string error;
    REQUIRE(message_from_json_value(o, back, error));
    CHECK(message_to_json(back) == message_to_json(m));
    CHECK(back.text == m.text);
    CHECK(back.attachments.size() == 1);
    CHECK(host.metric("lines_written") == 2);
}

TEST_CASE("file: the text format writes one readable line", "[file]") {
    TempDir dir;
    std::string path = (dir.path / "messages.log").string();
    FakeHost host(relais_plugin_entry(), {{"path", path}, {"format", "text"}, {"fsync", "true"}}, "file",
                  dir.path.string());
    host.start();
    Delivery d;
    d.rendered = "line one\nline two";
    REQUIRE(host.deliver(full_message(), d).status == RELAIS_DELIVERED);
    CHECK(lines(path) ==
          std::vector<std::string>{
              "[2023-11-14T22:13:20Z] xmpp/veille@conference.acme.example Alice Martin: line one\\nline two"});
}

TEST_CASE("file: an unwritable path gives a retry with a clear error, then recovers", "[file]") {
    TempDir dir;
    fs::path blocker = dir.path / "not-a-dir";
    std::ofstream(blocker) << "a file where a folder should be";
    std::string path = (blocker / "messages.jsonl").string();
    FakeHost host(relais_plugin_entry(), {{"path", path}}, "file", dir.path.string());
    host.start(); // does not fail: the disk may come back
    auto logs = host.logs();
    REQUIRE_FALSE(logs.empty());
    CHECK(logs.back().first == RELAIS_LOG_ERROR);
    CHECK(logs.back().second.find(path) != std::string::npos);

    auto r = host.deliver(full_message());
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.error.find("cannot open " + path) != std::string::npos);
    CHECK(r.error.find("Not a directory") != std::string::npos);
    CHECK(host.metric("write_errors") == 1);

    fs::remove(blocker);
    r = host.deliver(full_message());
    CHECK(r.status == RELAIS_DELIVERED);
    CHECK(lines(path).size() == 1);
}

TEST_CASE("file: a full disk gives a retry and leaves no partial line", "[file]") {
    if (!fs::exists("/dev/full")) return;
    TempDir dir;
    FakeHost host(relais_plugin_entry(), {{"path", "/dev/full"}}, "file", dir.path.string());
    host.start();
    auto r = host.deliver(full_message());
    CHECK(r.status == RELAIS_RETRY);
    CHECK(r.error.find("cannot write to /dev/full") != std::string::npos);
}

TEST_CASE("file: a rotated file is opened again", "[file]") {
    TempDir dir;
    fs::path path = dir.path / "messages.jsonl";
    FakeHost host(relais_plugin_entry(), {{"path", path.string()}}, "file", dir.path.string());
    host.start();
    host.deliver(full_message());
    fs::rename(path, dir.path / "messages.jsonl.1"); // what logrotate does
    auto r = host.deliver(full_message());
    REQUIRE(r.status == RELAIS_DELIVERED);
    CHECK(r.native_id == "0");
    CHECK(lines(path).size() == 1);
    CHECK(lines(dir.path / "messages.jsonl.1").size() == 1);
}

TEST_CASE("file: config errors name the key", "[file]") {
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {}), Catch::Contains("path: is required"));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"path", "x"}, {"format", "csv"}}),
                      Catch::Contains("format: expected json or text, got \"csv\""));
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"path", "x"}, {"fsync", "maybe"}}),
                      Catch::Contains("fsync: expected true or false"));
}
