// Tests of the small pieces under the parser: HTML to text, dates, charsets and URLs.
#include "charset.hpp"
#include "dates.hpp"
#include "html_text.hpp"
#include "urls.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace relais::rss;

TEST_CASE("HTML entities", "[text]") {
    CHECK(decode_entities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;") == "a & b <c> \"d\" 'e'");
    CHECK(decode_entities("caf&eacute; &euro;5 &hellip;") == "caf\xC3\xA9 \xE2\x82\xAC" "5 \xE2\x80\xA6");
    CHECK(decode_entities("&#233;&#xE9;&#X1F600;") == "\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80");
    CHECK(decode_entities("&#146;") == "\xE2\x80\x99"); // a Windows-1252 number, as browsers read it
    CHECK(decode_entities("&#xD800;&#0;") == "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(decode_entities("AT&T &unknown; & &#xZZ; &") == "AT&T &unknown; & &#xZZ; &");
}

TEST_CASE("HTML to text", "[text]") {
    CHECK(html_to_text("<p>One</p><p>Two</p>") == "One Two");
    CHECK(html_to_text("Hel<b>lo</b> <a href=\"x?a=1&amp;b=>2\">wor</a>ld") == "Hello world");
    CHECK(html_to_text("a<br/>b<BR>c") == "a b c");
    CHECK(html_to_text("x<script type='text/javascript'>var a = '<p>';</script>y<style>p{}</style>z") == "x y z");
    CHECK(html_to_text("<!-- hidden <b> -->shown") == "shown");
    CHECK(html_to_text("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2");
    CHECK(html_to_text("&lt;b&gt; is text") == "<b> is text");
    CHECK(html_to_text("  lots \n\t of\r\n  space\xC2\xA0here  ") == "lots of space here");
    CHECK(html_to_text("vector<T> <b>x</b>", Markup::html_known) == "vector<T> x");
    CHECK(html_to_text("<b>kept</b> &amp;", Markup::text) == "<b>kept</b> &amp;");
}

TEST_CASE("Truncation counts characters and ends on a word", "[text]") {
    CHECK(truncate_text("short", 10) == "short");
    CHECK(truncate_text("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
    CHECK(truncate_text("alpha beta gamma delta", 18) == "alpha beta gamma\xE2\x80\xA6");
}

TEST_CASE("Lower case beyond ASCII", "[text]") {
    CHECK(to_lower("\xC3\x89" "CONOMIE \xC3\x87" "A \xC5\x92UVRE") == "\xC3\xA9" "conomie \xC3\xA7" "a \xC5\x93uvre");
    CHECK(to_lower("\xD0\x9C\xD0\x98\xD0\xA0") == "\xD0\xBC\xD0\xB8\xD1\x80"); // МИР → мир
}

TEST_CASE("RFC 822 dates", "[dates]") {
    CHECK(parse_rfc822("Tue, 10 Jun 2003 04:00:00 GMT") == 1055217600000);
    CHECK(parse_rfc822("10 Jun 2003 04:00:00 GMT") == 1055217600000);
    CHECK(parse_rfc822("Tue, 10 Jun 2003 06:00:00 +0200") == 1055217600000);
    CHECK(parse_rfc822("Tue, 10 Jun 2003 00:00:00 EDT") == 1055217600000);
    CHECK(parse_rfc822("Tue, 10 Jun 03 04:00 Z") == 1055217600000);
    CHECK(parse_rfc822("Tuesday, 10-Jun-2003 04:00:00 UT") == 1055217600000);
    CHECK(parse_rfc822("Tue, 10 June 2003 04:00:00") == 1055217600000); // no zone: UTC
    CHECK(parse_rfc822("Fri, 31 Dec 1999 23:59:59 +00:00") == 946684799000);
    CHECK(parse_rfc822("Thu, 29 Feb 2024 00:00:00 GMT") == 1709164800000);
    CHECK_FALSE(parse_rfc822("Thu, 30 Feb 2024 00:00:00 GMT"));
    CHECK_FALSE(parse_rfc822("Tue, 10 Foo 2003 04:00:00 GMT"));
    CHECK_FALSE(parse_rfc822("Tue, 10 Jun 2003 25:00:00 GMT"));
    CHECK_FALSE(parse_rfc822("yesterday"));
}

TEST_CASE("RFC 3339 dates", "[dates]") {
    CHECK(parse_rfc3339("2003-06-10T04:00:00Z") == 1055217600000);
    CHECK(parse_rfc3339("2003-06-10t04:00:00z") == 1055217600000);
    CHECK(parse_rfc3339("2003-06-10T06:00:00+02:00") == 1055217600000);
    CHECK(parse_rfc3339("2003-06-09T23:00:00-05:00") == 1055217600000);
    CHECK(parse_rfc3339("2003-06-10T04:00:00.5Z") == 1055217600500);
    CHECK(parse_rfc3339("2003-06-10T04:00:00.123456789Z") == 1055217600123);
    CHECK(parse_rfc3339("2003-06-10 04:00:00") == 1055217600000);
    CHECK(parse_rfc3339("2003-06-10T04:00Z") == 1055217600000);
    CHECK(parse_rfc3339("2003-06-10") == 1055203200000);
    CHECK_FALSE(parse_rfc3339("2003-13-10T04:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2003-06-10T04:00:00Zjunk"));
    CHECK(parse_date("2003-06-10T04:00:00Z") == parse_date("Tue, 10 Jun 2003 04:00:00 GMT"));
    CHECK_FALSE(parse_date(""));
}

TEST_CASE("Charsets", "[charset]") {
    CHECK(xml_declared_encoding("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss/>") == "iso-8859-1");
    CHECK(xml_declared_encoding("<?xml version='1.0' encoding='Windows-1252' ?>") == "windows-1252");
    CHECK(xml_declared_encoding("<?xml version=\"1.0\"?><rss/>").empty());
    CHECK(xml_declared_encoding("<rss/>").empty());
    CHECK(cp1252_to_utf8("caf\xE9 \x80 \x93x\x94") == "caf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9Cx\xE2\x80\x9D");
    CHECK(repair_utf8("ok \xC3\xA9 bad \xE9 \xF0\x9F\x98\x80 \xC0\xAF") ==
          "ok \xC3\xA9 bad \xC3\xA9 \xF0\x9F\x98\x80 \xC3\x80\xC2\xAF");
    CHECK(looks_like_utf16_or_32(std::string("\xFF\xFE<\0", 4)));
    CHECK(looks_like_utf16_or_32(std::string("<\0?\0", 4)));
    CHECK_FALSE(looks_like_utf16_or_32("<?xml"));
    // Other encodings go through iconv: ISO-8859-15 has € at 0xA4.
    CHECK(feed_to_utf8("<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><t>\xA4</t>") ==
          "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><t>\xE2\x82\xAC</t>");
    CHECK_THROWS(feed_to_utf8("<?xml version=\"1.0\" encoding=\"no-such\"?><t/>"));
}

TEST_CASE("Relative links", "[urls]") {
    CHECK(resolve_url("https://a.example/feeds/news.xml", "/x/y") == "https://a.example/x/y");
    CHECK(resolve_url("https://a.example/feeds/news.xml", "item.html") == "https://a.example/feeds/item.html");
    CHECK(resolve_url("https://a.example/feeds/", "../up.html") == "https://a.example/up.html");
    CHECK(resolve_url("https://a.example/", "//cdn.example/x.png") == "https://cdn.example/x.png");
    CHECK(resolve_url("https://a.example/", "https://b.example/z") == "https://b.example/z");
    CHECK(resolve_url("https://a.example/", " spaced name.html ") == "https://a.example/spaced%20name.html");
    CHECK(resolve_url("not a base", "rel.html") == "rel.html");
    CHECK(resolve_url("https://a.example/", "").empty());
}

TEST_CASE("Feed locations", "[urls]") {
    std::string error;
    auto http = parse_location("https://example.com/feed.xml", error);
    REQUIRE(http);
    CHECK_FALSE(http->is_file);
    CHECK(http->url == "https://example.com/feed.xml");

    auto file = parse_location("file:///var/lib/feeds/my%20feed.xml", error);
    REQUIRE(file);
    CHECK(file->is_file);
    CHECK(file->path == "/var/lib/feeds/my feed.xml");
    CHECK(file->url == "file:///var/lib/feeds/my%20feed.xml");

    auto relative = parse_location("feeds/../demo.xml", error);
    REQUIRE(relative);
    CHECK(relative->is_file);
    CHECK(relative->path == (std::filesystem::current_path() / "demo.xml").string());
    CHECK(relative->url.rfind("file:///", 0) == 0);

    CHECK_FALSE(parse_location("ftp://example.com/feed.xml", error));
    CHECK(error.find("ftp") != std::string::npos);
    CHECK_FALSE(parse_location("file://otherhost/feed.xml", error));
    CHECK_FALSE(parse_location("http:///nohost", error));
    CHECK_FALSE(parse_location("  ", error));
}
