// Parser tests over the sample feeds in tests/data.
#include "feed_parser.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

using namespace relais::rss;
using Catch::Matchers::Contains;

namespace {

std::string data(const std::string &name) {
    std::ifstream in(std::string(RSS_TEST_DATA) + "/" + name, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string error_of(const std::string &body) {
    try {
        parse_feed(body, "https://example.com/feed");
    } catch (const FeedError &e) {
        return e.what();
    }
    FAIL("expected a FeedError");
    return {};
}

} // namespace

TEST_CASE("RSS 2.0: CDATA - HTML in titles and descriptions - entities - enclosures", "[parser]") {
    Feed feed = parse_feed(data("rss_cdata.xml"), "https://news.example.com/feed.xml");
    CHECK(feed.format == "rss");
    CHECK(feed.title == "Acme & Co \xE2\x80\x94 News");
    CHECK(feed.link == "https://news.example.com/");
    CHECK(feed.language == "en-US");
    REQUIRE(feed.items.size() == 3);

    const FeedItem &a = feed.items[0];
    CHECK(a.id == "news-3");
    CHECK(a.title == "RivalCorp wins big tender");
    CHECK(a.link == "https://news.example.com/2024/03/rivalcorp-tender");
    CHECK(a.summary == "RivalCorp has won the public tender for the city\xE2\x80\x99s network. More to follow\xE2\x80\xA6");
    CHECK(a.author == "Jane Editor");
    CHECK(a.author_id == "editor@news.example.com");
    CHECK(a.published_ms == 1709713800000);
    CHECK(a.tags == std::vector<std::string>{"competitors", "tenders"});
    CHECK(a.language == "en-US");
    REQUIRE(a.attachments.size() == 1);
    CHECK(a.attachments[0].url == "https://news.example.com/media/tender.mp3");
    CHECK(a.attachments[0].mime_type == "audio/mpeg");
    CHECK(a.attachments[0].size_bytes == 123456);
    CHECK(a.attachments[0].name == "tender.mp3");

    const FeedItem &b = feed.items[1];
    CHECK(b.title == "Using std::vector<T> in modern C++"); // a known tag goes, <T> stays
    CHECK(b.link == "https://news.example.com/2024/03/vector"); // relative link resolved against the feed URL
    CHECK(b.id == "https://news.example.com/2024/03/vector");
    CHECK(b.summary == "Plain & simple: escaped HTML, 3 < 4.");
    CHECK(b.author == "Bob Writer");
    CHECK(b.published_ms == 1709625600000);

    const FeedItem &c = feed.items[2];
    CHECK(c.link == "https://news.example.com/2024/03/oldest"); // a permalink guid stands for the link
    CHECK(c.summary == "Only full content here.");              // content:encoded when there is no description
    CHECK(c.published_ms == 1709553600000);                     // EST

    auto ordered = oldest_first(feed.items);
    CHECK(ordered[0].id == c.id);
    CHECK(ordered[1].id == b.id);
    CHECK(ordered[2].id == a.id);
}

TEST_CASE("Atom 1.0: xml:base - relative links - text constructs - enclosures", "[parser]") {
    Feed feed = parse_feed(data("atom_base.xml"), "https://elsewhere.example.org/feed.atom");
    CHECK(feed.format == "atom");
    CHECK(feed.title == "Le blog d'Acme");
    CHECK(feed.link == "https://blog.example.org/");
    CHECK(feed.language == "fr-FR");
    REQUIRE(feed.items.size() == 2);

    const FeedItem &a = feed.items[0];
    CHECK(a.id == "tag:blog.example.org,2024:veille");
    CHECK(a.title == "Veille & concurrence");
    CHECK(a.link == "https://blog.example.org/posts/2024/veille.html"); // feed and entry xml:base, nested
    CHECK(a.summary == "Un r\xC3\xA9sum\xC3\xA9 en HTML.");
    CHECK(a.author == "\xC3\x89quipe Acme"); // the feed's author when the entry has none
    CHECK(a.author_id == "https://blog.example.org/equipe");
    CHECK(a.published_ms == 1709712000000);
    CHECK(a.updated_ms == 1709713800250);
    CHECK(a.tags == std::vector<std::string>{"veille", "ao"});
    CHECK(a.language == "fr-FR");
    REQUIRE(a.attachments.size() == 1);
    CHECK(a.attachments[0].url == "https://blog.example.org/media/rapport.pdf");
    CHECK(a.attachments[0].name == "Rapport");
    CHECK(a.attachments[0].size_bytes == 2048);

    const FeedItem &b = feed.items[1];
    CHECK(b.title == "An XHTML title");
    CHECK(b.link == "https://blog.example.org/en/xhtml"); // rel=alternate of type text/html preferred
    CHECK(b.summary == "First paragraph. Second & last.");
    CHECK(b.author == "Alice");
    CHECK(b.author_id == "alice@example.org");
    CHECK(b.published_ms == 0);
    CHECK(b.date_ms() == 1709640000000);
    CHECK(b.language == "en");
}

TEST_CASE("JSON Feed 1.1", "[parser]") {
    Feed feed = parse_feed(data("feed.json"), "https://json.example.net/feed.json");
    CHECK(feed.format == "json");
    CHECK(feed.title == "Acme JSON");
    CHECK(feed.language == "en-GB");
    REQUIRE(feed.items.size() == 2);

    const FeedItem &a = feed.items[0];
    CHECK(a.id == "2");
    CHECK(a.link == "https://json.example.net/posts/2");
    CHECK(a.summary == "Hello world & friends");
    CHECK(a.tags == std::vector<std::string>{"launch", "products"});
    CHECK(a.author == "Acme Press");
    CHECK(a.published_ms == 1709373600000);
    REQUIRE(a.attachments.size() == 1);
    CHECK(a.attachments[0].mime_type == "video/mp4");
    CHECK(a.attachments[0].size_bytes == 9000);
    CHECK(a.attachments[0].name == "Demo");

    const FeedItem &b = feed.items[1];
    CHECK(b.id == "1"); // a number id becomes text
    CHECK(b.summary == "A short summary");
    CHECK(b.author == "Zo\xC3\xA9");
    CHECK(b.language == "fr");
    CHECK(b.published_ms == 1709280000000);
    CHECK(oldest_first(feed.items)[0].id == "1");
}

TEST_CASE("RSS 1.0 (RDF)", "[parser]") {
    Feed feed = parse_feed(data("rdf.xml"), "https://rdf.example.com/rss");
    CHECK(feed.format == "rdf");
    CHECK(feed.title == "RDF Site");
    CHECK(feed.language == "de");
    REQUIRE(feed.items.size() == 1);
    CHECK(feed.items[0].id == "https://rdf.example.com/a");
    CHECK(feed.items[0].link == "https://rdf.example.com/a");
    CHECK(feed.items[0].summary == "About A");
    CHECK(feed.items[0].author == "Dora");
    CHECK(feed.items[0].published_ms == 1704164645000);
    CHECK(feed.items[0].tags == std::vector<std::string>{"science"});
    CHECK(feed.items[0].language == "de");
}

TEST_CASE("A feed declared ISO-8859-1 (with Windows-1252 bytes) reads as UTF-8", "[parser]") {
    Feed feed = parse_feed(data("latin1.xml"), "file:///tmp/latin1.xml");
    CHECK(feed.title == "Actualit\xC3\xA9s de l'\xC3\xA9t\xC3\xA9");
    REQUIRE(feed.items.size() == 1);
    CHECK(feed.items[0].title == "Caf\xC3\xA9 \xC3\xA0 No\xC3\xABl");
    // € and ’ are Windows-1252 bytes 0x80 and 0x92; the no-break spaces collapse to spaces.
    CHECK(feed.items[0].summary ==
          "Prix : 5 \xE2\x82\xAC \xE2\x80\x94 l\xE2\x80\x99offre du \xC2\xAB jour \xC2\xBB");
    CHECK(feed.items[0].tags == std::vector<std::string>{"\xC3\xA9" "conomie"});
    CHECK(feed.items[0].language == "fr");
}

TEST_CASE("A UTF-16 feed", "[parser]") {
    Feed feed = parse_feed(data("atom_utf16.xml"), "https://wide.example.com/");
    REQUIRE(feed.items.size() == 1);
    CHECK(feed.items[0].title == "\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 in UTF-16");
}

TEST_CASE("Duplicate guids keep the first item", "[parser]") {
    Feed feed = parse_feed(data("duplicate_guids.xml"), "https://dupes.example.com/");
    REQUIRE(feed.items.size() == 2);
    CHECK(feed.items[0].id == "same");
    CHECK(feed.items[0].title == "Newest version");
    CHECK(feed.items[1].id == "other");
}

TEST_CASE("Missing dates and guids: ids fall back to the link then to a stable hash", "[parser]") {
    Feed feed = parse_feed(data("no_dates.xml"), "https://nodates.example.com/");
    REQUIRE(feed.items.size() == 3);
    CHECK(feed.items[0].id == "https://nodates.example.com/3");
    CHECK(feed.items[1].id.rfind("hash:", 0) == 0);
    CHECK(feed.items[1].id.size() == 5 + 16);
    CHECK(feed.items[1].published_ms == 0); // an unreadable date is no date
    CHECK(feed.items[2].id == "first");
    for (const auto &item : feed.items) CHECK(item.date_ms() == 0);

    // The same document gives the same ids, so a hashed item is not relayed twice.
    Feed again = parse_feed(data("no_dates.xml"), "https://nodates.example.com/");
    CHECK(again.items[1].id == feed.items[1].id);
    // Undated items: the reverse of document order, since feeds list newest first.
    auto ordered = oldest_first(feed.items);
    CHECK(ordered[0].id == "first");
    CHECK(ordered[2].id == "https://nodates.example.com/3");
}

TEST_CASE("Documents that are not feeds give a clear error", "[parser]") {
    CHECK_THAT(error_of(data("not_xml.txt")), Contains("neither XML nor JSON"));
    CHECK_THAT(error_of(data("malformed.xml")), Contains("malformed XML at line 5"));
    CHECK_THAT(error_of(data("page.html")), Contains("HTML page"));
    CHECK_THAT(error_of(""), Contains("empty"));
    CHECK_THAT(error_of("   \n"), Contains("empty"));
    CHECK_THAT(error_of("<?xml version=\"1.0\"?><opml version=\"2.0\"><body/></opml>"), Contains("<opml>"));
    CHECK_THAT(error_of("<feed><entry/></feed>"), Contains("Atom 1.0 namespace"));
    CHECK_THAT(error_of("{\"version\": \"x\"}"), Contains("no \"items\""));
    CHECK_THAT(error_of("{\"items\": ["), Contains("malformed JSON"));
    CHECK_THAT(error_of("<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><rss/>"), Contains("x-no-such-charset"));
}

TEST_CASE("A feed claiming UTF-8 with stray Windows-1252 bytes still parses", "[parser]") {
    std::string body = "<rss version=\"2.0\"><channel><title>Caf\xE9</title>"
                       "<item><guid>1</guid><title>\xE2\x80\x9Cok\xE2\x80\x9D and \x93quoted\x94</title></item>"
                       "</channel></rss>";
    Feed feed = parse_feed(body, "https://x.example/");
    CHECK(feed.title == "Caf\xC3\xA9");
    REQUIRE(feed.items.size() == 1);
    CHECK(feed.items[0].title == "\xE2\x80\x9Cok\xE2\x80\x9D and \xE2\x80\x9Cquoted\xE2\x80\x9D");
}

TEST_CASE("A long description is cut near 1000 characters at a word boundary", "[parser]") {
    std::string words;
    for (int i = 0; i < 400; ++i) words += "mot\xC3\xA9 ";
    std::string body = "<rss version=\"2.0\"><channel><title>Long</title><item><guid>1</guid><description>" + words +
                       "</description></item></channel></rss>";
    Feed feed = parse_feed(body, "https://x.example/");
    const std::string &s = feed.items[0].summary;
    size_t chars = 0;
    for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
    CHECK(chars <= max_summary_chars + 1);
    CHECK(chars > 900);
    CHECK(s.substr(s.size() - 3) == "\xE2\x80\xA6");
    CHECK(s.substr(s.size() - 8, 5) == "mot\xC3\xA9"); // a whole word before the ellipsis
}
