// Watching many feeds: the same article in two feeds once, a bounded memory of what was relayed, links
// normalised, charsets from the Content-Type, undated items dated by their fetch.
#include "feed_files.hpp"

#include "charset.hpp"
#include "feed_parser.hpp"
#include "item_identity.hpp"
#include "seen_store.hpp"

#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using relais::testing::FakeHost;
using namespace rss_test;
using namespace relais::rss;

namespace {

// An RSS document whose items are given as raw XML.
std::string rss_of(const std::vector<std::string> &items) {
    std::string out = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
                      "<link>https://site.example/</link>";
    for (const auto &i : items) out += "<item>" + i + "</item>";
    return out + "</channel></rss>";
}

// A key-value store behind the plugin API, for SeenStore alone.
struct MapStore {
    std::map<std::string, std::string> kv;
    relais_host_api api{};

    MapStore() {
        api.kv_get = [](relais_host *h, relais_str key, relais_str_fn fn, void *user) {
            auto &kv = reinterpret_cast<MapStore *>(h)->kv;
            auto it = kv.find(std::string(key.data, key.len));
            if (it == kv.end()) return static_cast<int>(RELAIS_NOT_FOUND);
            fn(user, relais_str{it->second.data(), it->second.size()});
            return static_cast<int>(RELAIS_OK);
        };
        api.kv_put = [](relais_host *h, relais_str key, relais_str value) {
            reinterpret_cast<MapStore *>(h)->kv[std::string(key.data, key.len)] = std::string(value.data, value.len);
            return static_cast<int>(RELAIS_OK);
        };
        api.kv_delete = [](relais_host *h, relais_str key) {
            reinterpret_cast<MapStore *>(h)->kv.erase(std::string(key.data, key.len));
            return static_cast<int>(RELAIS_OK);
        };
    }
    relais::Host host() { return relais::Host(reinterpret_cast<relais_host *>(this), &api); }
    size_t records() const {
        size_t n = 0;
        for (const auto &[k, v] : kv) n += k.rfind("seen-ring:", 0) != 0;
        return n;
    }
};

} // namespace

TEST_CASE("Links are normalised: tracking parameters, fragment, scheme, www and Google redirects go", "[watch]") {
    CHECK(normalise_link("https://www.News.example/a/b/?utm_source=x&id=3&utm_medium=rss#top") ==
          "news.example/a/b?id=3");
    CHECK(normalise_link("http://news.example:80/a/b?id=3&fbclid=zz") == "news.example/a/b?id=3");
    CHECK(normalise_link("https://www.google.com/url?rct=j&sa=t&url=https://news.example/a/b%3Fid%3D3&ct=ga") ==
          "news.example/a/b?id=3");
    CHECK(normalise_link("https://news.example:8443/") == "news.example:8443");
    CHECK(normalise_link("  not a url  ") == "not a url");

    FeedItem titled;
    titled.title = "Hydrogen  News";
    CHECK(item_fingerprint(titled) == "title:hydrogen news");
    titled.link = "https://news.example/x#y";
    CHECK(item_fingerprint(titled) == "link:news.example/x");
    CHECK(item_fingerprint(FeedItem{}).empty());
}

TEST_CASE("The same article in two feeds is emitted once, whichever feed has it first", "[watch]") {
    ScratchDir dir;
    write_file(dir.file("a.xml"), rss_of({"<guid isPermaLink=\"false\">alert-1</guid><title>H2 record</title>"
                                          "<link>https://news.example/h2?utm_source=alerts</link>",
                                          "<guid>only-a</guid><title>Only in A</title>"}));
    write_file(dir.file("b.xml"), rss_of({"<guid isPermaLink=\"false\">tag:b,1</guid><title>H2 record!</title>"
                                          "<link>http://www.news.example/h2#comments</link>",
                                          "<guid>tag:b,2</guid><title>Same id elsewhere</title>"
                                          "<link>https://other.example/2</link>"}));
    FakeHost host(relais_plugin_entry(), {{"feeds.0.url", dir.file("a.xml")},
                                          {"feeds.0.channel", "a"},
                                          {"feeds.1.url", dir.file("b.xml")},
                                          {"feeds.1.channel", "b"}});
    host.start();
    poll(host, 2);
    std::multiset<std::string> texts;
    for (const auto &m : host.emitted()) texts.insert(std::string(m.meta("title")));
    const bool a_first = texts == std::multiset<std::string>{"H2 record", "Only in A", "Same id elsewhere"};
    const bool b_first = texts == std::multiset<std::string>{"H2 record!", "Only in A", "Same id elsewhere"};
    CHECK((a_first || b_first));
    CHECK(host.metric("duplicates_skipped") == 1);

    poll(host, 2); // nothing new, and the duplicate is not counted again
    CHECK(host.emitted().size() == 3);
    CHECK(host.metric("duplicates_skipped") == 1);
}

TEST_CASE("The same guid in two feeds with different links is two articles", "[watch]") {
    ScratchDir dir;
    write_file(dir.file("a.xml"), rss_of({"<guid isPermaLink=\"false\">1</guid><title>One</title>"
                                          "<link>https://a.example/1</link>"}));
    write_file(dir.file("b.xml"), rss_of({"<guid isPermaLink=\"false\">1</guid><title>Un</title>"
                                          "<link>https://b.example/1</link>"}));
    FakeHost host(relais_plugin_entry(), {{"feeds.0", dir.file("a.xml")}, {"feeds.1", dir.file("b.xml")}});
    host.start();
    poll(host, 2);
    CHECK(host.emitted().size() == 2);
}

TEST_CASE("An undated item is dated by its fetch, a duplicated guid in one feed is one item", "[watch]") {
    ScratchDir dir;
    write_file(dir.file("a.xml"), rss_of({"<guid>x</guid><title>First copy</title>",
                                          "<guid>x</guid><title>Second copy</title>"}));
    FakeHost host(relais_plugin_entry(), {{"feeds.0", dir.file("a.xml")}});
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    host.start();
    poll(host);
    REQUIRE(host.emitted().size() == 1);
    CHECK(host.emitted()[0].meta("title") == "First copy");
    CHECK(host.emitted()[0].created_at_ms >= before);
}

TEST_CASE("The seen store forgets the oldest records past its capacity but keeps those still looked up",
          "[watch]") {
    MapStore store;
    relais::Host host = store.host();
    SeenStore seen(host, 10);
    std::lock_guard lock(seen.mutex());
    seen.record("kept");
    for (int i = 0; i < 100; ++i) {
        seen.record("item-" + std::to_string(i));
        CHECK(seen.seen("kept")); // a record in use is renewed before it is forgotten
    }
    CHECK(store.records() <= 10);
    CHECK(seen.seen("item-99"));
    CHECK_FALSE(seen.seen("item-0"));

    SeenStore reopened(host, 10); // the ring position is stored too
    std::lock_guard lock2(reopened.mutex());
    reopened.record("after-restart");
    CHECK(reopened.seen("item-99"));
    CHECK(store.records() <= 10);

    store.kv["legacy"] = "1709546400000"; // a record written before the ring: a timestamp
    CHECK(reopened.seen("legacy"));
    CHECK(store.kv["legacy"] != "1709546400000"); // taken into the ring
}

TEST_CASE("The Content-Type charset applies when the document declares none", "[watch]") {
    CHECK(content_type_charset("text/xml; charset=\"ISO-8859-1\"") == "iso-8859-1");
    CHECK(content_type_charset("application/rss+xml") == "");
    const std::string latin1 = "<rss version=\"2.0\"><channel><title>\xE9t\xE9</title><item><title>Caf\xE9"
                               "</title><guid>1</guid></item></channel></rss>";
    Feed f = parse_feed(latin1, "https://site.example/feed", "iso-8859-1");
    CHECK(f.title == "\xC3\xA9t\xC3\xA9");
    REQUIRE(f.items.size() == 1);
    CHECK(f.items[0].title == "Caf\xC3\xA9");
    // Valid UTF-8 is UTF-8 whatever a server-wide default says; the XML declaration wins over the header.
    CHECK(feed_to_utf8("<rss>\xC3\xA9</rss>", "iso-8859-1") == "<rss>\xC3\xA9</rss>");
    CHECK(feed_to_utf8("<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80</a>", "utf-8") ==
          "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\xE2\x82\xAC</a>");
    CHECK(feed_to_utf8("<a>\xE8\xF0</a>", "koi8-r") == "<a>\xD0\xA5\xD0\x9F</a>");
}

TEST_CASE("A failing feed warns once per change of state, not at every attempt", "[watch]") {
    ScratchDir dir;
    const std::string path = dir.file("broken.xml");
    write_file(path, "<rss><channel><item>");
    FakeHost host(relais_plugin_entry(), {{"feeds.0.url", path}, {"feeds.0.name", "Broken"}, {"interval", "1m"}});
    host.start();
    auto warnings = [&] {
        int n = 0;
        for (const auto &[level, text] : host.logs())
            n += level == RELAIS_LOG_WARN && text.find("Broken") != std::string::npos;
        return n;
    };
    poll(host);
    CHECK(warnings() == 1);
    poll(host); // the same error again: debug only
    CHECK(warnings() == 1);
    std::filesystem::remove(path);
    poll(host, 0); // backing off (2m)
    poll(host);    // another error: a new state, a new warning
    CHECK(warnings() == 2);
    CHECK(host.metric("fetch_errors") == 3);
}
