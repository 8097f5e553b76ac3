// Status HTML as plain text: what Mastodon writes (mentions, hashtags, shortened links) and what other servers do.
#include "html_text.hpp"

#include <catch2/catch.hpp>

using relais::mastodon::decode_entities;
using relais::mastodon::html_to_text;

TEST_CASE("html: paragraphs become blank lines and <br> a line break", "[html]") {
    auto t = html_to_text("<p>First line<br />second line</p><p>Second   paragraph\n here</p>");
    CHECK(t.text == "First line\nsecond line\n\nSecond paragraph here");
    CHECK(t.links.empty());
}

TEST_CASE("html: mentions and hashtags keep their visible text, not their address", "[html]") {
    auto t = html_to_text("<p><span class=\"h-card\" translate=\"no\"><a href=\"https://m.example/@acme\" "
                          "class=\"u-url mention\">@<span>acme</span></a></span> hello "
                          "<a href=\"https://m.example/tags/veille\" class=\"mention hashtag\" rel=\"tag\">#<span>"
                          "veille</span></a></p>");
    CHECK(t.text == "@acme hello #veille");
    CHECK(t.links.empty());
}

TEST_CASE("html: a shortened link is written as its whole address", "[html]") {
    auto t = html_to_text("<p>see <a href=\"https://www.example.org/a/very/long/path?x=1&amp;y=2\" rel=\"nofollow "
                          "noopener\"><span class=\"invisible\">https://www.</span><span class=\"ellipsis\">example.org"
                          "/a/very/lon</span><span class=\"invisible\">g/path?x=1&amp;y=2</span></a> now</p>");
    CHECK(t.text == "see https://www.example.org/a/very/long/path?x=1&y=2 now");
    REQUIRE(t.links.size() == 1);
    CHECK(t.links[0] == "https://www.example.org/a/very/long/path?x=1&y=2");
}

TEST_CASE("html: a link whose label is words keeps both", "[html]") {
    auto t = html_to_text("<p>Read <a href=\"https://blog.example/post\">our post</a>.</p>");
    CHECK(t.text == "Read our post (https://blog.example/post).");
    CHECK(t.links == std::vector<std::string>{"https://blog.example/post"});
}

TEST_CASE("html: entities, emoji shortcodes and Unicode pass through decoded", "[html]") {
    auto t = html_to_text("<p>l&#39;appel &amp; &quot;offres&quot; &lt;3 &#x1F680; :blobcat: caf\xC3\xA9 &nbsp;!</p>");
    CHECK(t.text == "l'appel & \"offres\" <3 \xF0\x9F\x9A\x80 :blobcat: caf\xC3\xA9 \xC2\xA0!");
    CHECK(decode_entities("&unknown; &amp &#xZZ; &#0;") == "&unknown; &amp &#xZZ; \xEF\xBF\xBD");
}

TEST_CASE("html: lists, quotes and code from other servers - scripts are not text", "[html]") {
    auto t = html_to_text("<p>Items:</p><ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>"
                          "<script>alert(1)</script><pre>x &lt; y</pre>");
    CHECK(t.text == "Items:\n\none\ntwo\nquoted\nx < y");
}

TEST_CASE("html: broken markup never loses the words", "[html]") {
    CHECK(html_to_text("a < b and <b>bold</b> <a href='x'>unclosed").text == "a < b and bold unclosed (x)");
    CHECK(html_to_text("<p>text<").text == "text<");
    CHECK(html_to_text("").text.empty());
}
