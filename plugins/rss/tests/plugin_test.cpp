// The plugin through the real ABI (FakeHost), watching feed files on disk.
#include "feed_files.hpp"

#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using relais::testing::FakeHost;
using namespace rss_test;
using Catch::Matchers::Contains;

namespace {

const Item oldest{"a", "Alpha", "Mon, 04 Mar 2024 10:00:00 GMT"};
const Item middle{"b", "Bravo", "Tue, 05 Mar 2024 10:00:00 GMT"};
const Item newest{"c", "Charlie", "Wed, 06 Mar 2024 10:00:00 GMT"};
const Item later{"d", "Delta", "Thu, 07 Mar 2024 10:00:00 GMT"};

std::vector<std::string> ids(const FakeHost &host) {
    std::vector<std::string> out;
    for (const auto &m : host.emitted()) out.push_back(m.native_id);
    return out;
}

bool logged(const FakeHost &host, int32_t level, const std::string &needle) {
    for (const auto &[l, text] : host.logs())
        if (l == level && text.find(needle) != std::string::npos) return true;
    return false;
}

std::string create_error(FakeHost::Config config) {
    try {
        FakeHost host(relais_plugin_entry(), std::move(config));
    } catch (const std::exception &e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("The plugin describes itself", "[plugin]") {
    const relais_plugin_info *info = relais_plugin_entry();
    CHECK(std::string(info->name) == "rss");
    CHECK(info->capabilities == RELAIS_CAP_SOURCE);
    CHECK(info->default_level == RELAIS_LEVEL_PUBLIC);
    std::vector<std::string> keys;
    for (size_t i = 0; i < info->config_keys_len; ++i) keys.push_back(info->config_keys[i].name);
    CHECK(keys == std::vector<std::string>{"feeds", "interval", "timeout", "user_agent", "skip_existing"});
}

TEST_CASE("First poll emits every item oldest first - the next emits nothing - a new item once", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("news.xml");
    write_file(path, rss({newest, middle, oldest}, "Acme News"));

    FakeHost host(relais_plugin_entry(), {{"feeds.0.url", "file://" + path}, {"feeds.0.channel", "veille"}});
    host.start();
    poll(host);
    REQUIRE(ids(host) == std::vector<std::string>{"a", "b", "c"});
    CHECK(host.metric("items_emitted") == 3);

    const auto emitted = host.emitted();
    const relais::Message &m = emitted[0];
    CHECK(m.channel == "veille");
    CHECK(m.text == "Alpha \xE2\x80\x94 About Alpha");
    REQUIRE(m.links.size() == 1);
    CHECK(m.links[0] == "https://feed.example/a");
    CHECK(m.tags == std::vector<std::string>{"tag-a"});
    CHECK(m.language == "en");
    CHECK(m.created_at_ms == 1709546400000);
    CHECK(m.kind == relais::Kind::post);
    CHECK(m.meta("feed_title") == "Acme News");
    CHECK(m.meta("feed_url") == "file://" + path);
    CHECK(m.meta("title") == "Alpha");

    poll(host);
    CHECK(host.emitted().size() == 3);

    write_file(path, rss({later, newest, middle, oldest}, "Acme News"));
    poll(host);
    REQUIRE(ids(host) == std::vector<std::string>{"a", "b", "c", "d"});
    poll(host);
    CHECK(host.emitted().size() == 4);
    CHECK(host.metric("items_emitted") == 4);
    CHECK(host.metric("fetch_errors") == 0);
}

TEST_CASE("A feed given as a plain relative path - the channel defaults to its name then its URL", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("plain.xml");
    write_file(path, rss({oldest}));
    std::string relative = std::filesystem::relative(path).string();
    REQUIRE(relative.rfind("/", 0) != 0);

    FakeHost named(relais_plugin_entry(), {{"feeds.0.url", relative}, {"feeds.0.name", "Plain"}});
    named.start();
    poll(named);
    REQUIRE(named.emitted().size() == 1);
    CHECK(named.emitted()[0].channel == "Plain");

    FakeHost bare(relais_plugin_entry(), {{"feeds.0", relative}});
    bare.start();
    poll(bare);
    REQUIRE(bare.emitted().size() == 1);
    CHECK(bare.emitted()[0].channel == relative);
    CHECK(bare.emitted()[0].meta("feed_url") == relative);
}

TEST_CASE("An item the host refuses is offered again at the next poll in order", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("news.xml");
    write_file(path, rss({newest, middle, oldest}));

    FakeHost host(relais_plugin_entry(), {{"feeds.0", path}});
    host.start();
    host.fail_emits(RELAIS_E_STORAGE);
    poll(host);
    CHECK(host.emitted().empty());
    CHECK(logged(host, RELAIS_LOG_WARN, "did not accept item a"));
    CHECK(host.metric("items_emitted") == 0);

    host.fail_emits(RELAIS_OK);
    poll(host);
    CHECK(ids(host) == std::vector<std::string>{"a", "b", "c"});
    poll(host);
    CHECK(host.emitted().size() == 3);
}

TEST_CASE("What was seen survives a restart with the same store", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("news.xml");
    write_file(path, rss({middle, oldest}));
    const FakeHost::Config config{{"feeds.0.url", path}, {"feeds.0.interval", "10m"}};

    std::map<std::string, std::string> store;
    {
        FakeHost first(relais_plugin_entry(), config);
        first.start();
        poll(first);
        CHECK(first.emitted().size() == 2);
        store = first.kv();
    }
    write_file(path, rss({newest, middle, oldest}));
    FakeHost second(relais_plugin_entry(), config);
    second.kv() = store;
    second.start();
    poll(second);
    CHECK(ids(second) == std::vector<std::string>{"c"});

    FakeHost amnesiac(relais_plugin_entry(), config); // an empty store: everything is new again
    amnesiac.start();
    poll(amnesiac);
    CHECK(amnesiac.emitted().size() == 3);
}

TEST_CASE("skip_existing: the first fetch only remembers", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("news.xml");
    write_file(path, rss({middle, oldest}));
    FakeHost host(relais_plugin_entry(), {{"feeds.0", path}, {"skip_existing", "true"}});
    host.start();
    poll(host);
    CHECK(host.emitted().empty());
    CHECK(logged(host, RELAIS_LOG_INFO, "2 existing items skipped"));

    write_file(path, rss({newest, middle, oldest}));
    poll(host);
    CHECK(ids(host) == std::vector<std::string>{"c"});
}

TEST_CASE("Several feeds each with its own channel and state", "[plugin]") {
    ScratchDir dir;
    write_file(dir.file("one.xml"), rss({middle, oldest}));
    write_file(dir.file("two.xml"), rss({oldest}));
    FakeHost host(relais_plugin_entry(), {{"feeds.0.url", dir.file("one.xml")},
                                          {"feeds.0.channel", "one"},
                                          {"feeds.1.url", dir.file("two.xml")},
                                          {"feeds.1.channel", "two"}});
    host.start();
    poll(host, 2);
    auto emitted = host.emitted();
    REQUIRE(emitted.size() == 2); // item "a" (same link) in both feeds is one article, relayed once
    std::set<std::string> seen_ids;
    for (const auto &m : emitted) seen_ids.insert(m.native_id);
    CHECK(seen_ids == std::set<std::string>{"a", "b"});
    CHECK(host.metric("duplicates_skipped") == 1);
}

TEST_CASE("A broken or missing feed is logged and counted and retried with backoff", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("broken.xml");
    write_file(path, "<rss><channel><item>\n<title>cut short");
    write_file(dir.file("good.xml"), rss({oldest}));

    FakeHost host(relais_plugin_entry(), {{"feeds.0.url", path},
                                          {"feeds.0.name", "Broken"},
                                          {"feeds.1", dir.file("good.xml")},
                                          {"interval", "1m"}});
    host.start();
    poll(host, 2);
    CHECK(host.emitted().size() == 1); // the other feed carries on
    CHECK(host.metric("fetch_errors") == 1);
    CHECK(logged(host, RELAIS_LOG_WARN, "feed \"Broken\" (" + path + "): not a feed: malformed XML"));
    CHECK(logged(host, RELAIS_LOG_WARN, "next try in 1m"));

    // 2nd failure right at the next tick; then waits 1 tick (2m), then 3 ticks (4m)…
    poll(host, 2);
    CHECK(host.metric("fetch_errors") == 2);
    // The same error again is logged at debug level only: a warning per change of state, not per attempt.
    CHECK(logged(host, RELAIS_LOG_DEBUG, "next try in 2m (2 failures in a row)"));
    CHECK_FALSE(logged(host, RELAIS_LOG_WARN, "next try in 2m"));
    poll(host, 1); // the broken feed waits this tick out
    CHECK(host.metric("fetch_errors") == 2);
    poll(host, 2);
    CHECK(host.metric("fetch_errors") == 3);
    CHECK(logged(host, RELAIS_LOG_DEBUG, "next try in 4m"));

    write_file(path, rss({middle}));
    for (int i = 0; i < 3; ++i) poll(host, 1);
    CHECK(host.emitted().size() == 1);
    poll(host, 2);
    CHECK(host.emitted().size() == 2);
    CHECK(logged(host, RELAIS_LOG_INFO, "readable again after 3 failed attempts"));

    std::filesystem::remove(path);
    poll(host, 2);
    CHECK(host.metric("fetch_errors") == 4);
    CHECK(logged(host, RELAIS_LOG_WARN, "cannot read " + path));
}

TEST_CASE("A folder where a feed file should be is an error", "[plugin]") {
    ScratchDir dir;
    FakeHost host(relais_plugin_entry(), {{"feeds.0", dir.file("")}});
    host.start();
    poll(host);
    CHECK(host.metric("fetch_errors") == 1);
    CHECK(logged(host, RELAIS_LOG_WARN, "is not a regular file"));
}

TEST_CASE("Backoff stops growing at one hour", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("missing.xml");
    FakeHost host(relais_plugin_entry(), {{"feeds.0", path}, {"interval", "20m"}});
    host.start();
    for (int tick = 1; tick <= 40; ++tick) {
        // Tries at ticks 1 and 2 (1 interval), 4 (2 intervals), then every 3 ticks (60m at 20m a tick).
        bool tries = tick == 1 || tick == 2 || (tick >= 4 && (tick - 4) % 3 == 0);
        poll(host, tries ? 1 : 0);
    }
    CHECK(logged(host, RELAIS_LOG_DEBUG, "next try in 1h"));
    for (const auto &[level, text] : host.logs()) CHECK(text.find("next try in 2h") == std::string::npos);
    CHECK(host.metric("fetch_errors") == 15);
}

TEST_CASE("Nothing is emitted after stop", "[plugin]") {
    ScratchDir dir;
    const std::string path = dir.file("news.xml");
    write_file(path, rss({oldest}));
    FakeHost host(relais_plugin_entry(), {{"feeds.0", path}});
    host.start();
    host.stop();
    host.run_timers();
    CHECK(host.emitted().empty());
}

TEST_CASE("Config mistakes name their key", "[plugin][config]") {
    CHECK_THAT(create_error({}), Contains("feeds: add at least one feed"));
    CHECK_THAT(create_error({{"feeds.0", "ftp://example.com/x.xml"}}), Contains("feeds.0: scheme \"ftp\""));
    CHECK_THAT(create_error({{"feeds.0.url", "https://"}}), Contains("feeds.0.url:"));
    CHECK_THAT(create_error({{"feeds.0.name", "no url"}}), Contains("feeds.0.url: is required"));
    CHECK_THAT(create_error({{"feeds.0.url", "https://a.example/f"}, {"feeds.0.chanel", "x"}}),
               Contains("feeds.0.chanel: unknown key"));
    CHECK_THAT(create_error({{"feeds.0.url", "https://a.example/f"}, {"feeds.0.interval", "often"}}),
               Contains("feeds.0.interval: expected a duration"));
    CHECK_THAT(create_error({{"feeds.0.url", "https://a.example/f"}, {"feeds.0.interval", "100ms"}}),
               Contains("feeds.0.interval: is shorter than 1s"));
    CHECK_THAT(create_error({{"feeds.0", "https://a.example/f"}, {"feeds.1.url", "https://a.example/f"}}),
               Contains("feeds.1.url: is the same feed as feeds.0"));
    CHECK_THAT(create_error({{"feeds.0.url", "/tmp/f.xml"}, {"feeds.0.headers.X-Token", "t"}}),
               Contains("feeds.0.headers: only applies to http"));
    CHECK_THAT(create_error({{"feeds.0.url", "https://a.example/f"}, {"feeds.0.headers", "x"}}),
               Contains("feeds.0.headers: expected a map"));
    CHECK_THAT(create_error({{"feeds.0.url", "https://a.example/f"}, {"feeds.0.headers.Bad Name", "x"}}),
               Contains("feeds.0.headers.Bad Name: is not a valid HTTP header name"));
    CHECK_THAT(create_error({{"feeds.0", "https://a.example/f"}, {"timeout", "0s"}}), Contains("timeout:"));
    CHECK_THAT(create_error({{"feeds.0", "https://a.example/f"}, {"skip_existing", "maybe"}}),
               Contains("skip_existing:"));
    CHECK_THAT(create_error({{"feeds.0.0", "https://a.example/f"}}), Contains("feeds.0: is a list"));
    CHECK(create_error({{"feeds", "https://a.example/f"}}) == "(no error)"); // one feed, not in a list
}
