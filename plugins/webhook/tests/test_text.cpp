// webhook: the pure parts: UTF-8 checks, tag/mention/link extraction, payload parsing, signatures, outgoing bodies.
#include "inbound.hpp"
#include "outbound.hpp"
#include "signature.hpp"
#include "text_scan.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace relais;
using namespace relais::webhook;
using Strings = std::vector<std::string>;

TEST_CASE("valid_utf8 accepts well-formed text and finds the first bad byte", "[webhook][text]") {
    size_t bad = 99;
    CHECK(valid_utf8("", bad));
    CHECK(valid_utf8("plain ascii", bad));
    CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", bad)); // é € 😀
    CHECK_FALSE(valid_utf8("caf\xC3", bad));                          // truncated
    CHECK(bad == 3);
    CHECK_FALSE(valid_utf8("ab\x80", bad)); // a lone continuation byte
    CHECK(bad == 2);
    CHECK_FALSE(valid_utf8("\xC0\xAF", bad));         // overlong '/'
    CHECK_FALSE(valid_utf8("\xED\xA0\x80", bad));     // a UTF-16 surrogate
    CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80", bad)); // above U+10FFFF
    CHECK_FALSE(valid_utf8("\xFF", bad));
}

TEST_CASE("scan_text finds hashtags: Unicode letters, digits, _ and -, lowercased", "[webhook][text]") {
    auto s = scan_text("News #Veille, #Café and #naïve-test; #ÉTÉ_2024! #123 is a number, #a-");
    CHECK(s.tags == Strings{"veille", "café", "naïve-test", "été_2024", "a"});
    CHECK(scan_text("#Архив #архив #日本").tags == Strings{"архив", "日本"});
    CHECK(scan_text("no tags: C# issue#4 &#39; ##").tags.empty());
    CHECK(scan_text("https://example.com/page#section and /#anchor").tags.empty());
    CHECK(scan_text("(#inside) [#brackets]").tags == Strings{"inside", "brackets"});
}

TEST_CASE("scan_text finds mentions but not e-mail addresses", "[webhook][text]") {
    auto s = scan_text("Hi @alice, @bob.bsky.social and @carol@mastodon.social. Mail dave@example.com. @");
    CHECK(s.mentions == Strings{"alice", "bob.bsky.social", "carol@mastodon.social"});
    CHECK(scan_text("Slack style <@U123ABC> and <@U9|eve>").mentions == Strings{"U123ABC", "U9"});
    CHECK(scan_text("end with a dot @zed.").mentions == Strings{"zed"});
}

TEST_CASE("scan_text finds http(s) links without the punctuation around them", "[webhook][text]") {
    auto s = scan_text("See https://example.com/a?b=1&c=2#frag, (http://x.org/wiki/Foo_(bar)) and "
                       "<https://slack.example/x|label>. Also HTTPS://UP.EXAMPLE/p. Not ftp://a.b nor https://");
    CHECK(s.links == Strings{"https://example.com/a?b=1&c=2#frag", "http://x.org/wiki/Foo_(bar)",
                             "https://slack.example/x", "HTTPS://UP.EXAMPLE/p"});
    CHECK(scan_text("see https://example.com/@user/#tag").mentions.empty());
    CHECK(scan_text("see https://example.com/@user/#tag").tags.empty());
}

TEST_CASE("lowercase maps Unicode letters", "[webhook][text]") {
    CHECK(lowercase("ÉCOLE Straße ΑΒΓ") == "école straße αβγ");
}

TEST_CASE("parse_payload reads the generic message object", "[webhook][inbound]") {
    Message m;
    std::string error;
    REQUIRE(parse_payload(R"({"text": "Release notes #Launch https://example.com/r",
        "author": "Alice", "author_id": "alice@acme.example", "channel": "news", "native_id": "n-1",
        "thread_id": "t-1", "reply_to": "n-0", "kind": "reply", "level": "Internal", "language": "fr",
        "tags": ["#Archive", "launch"], "mentions": ["@bob"], "links": ["https://example.com/permalink"],
        "created_at_ms": 1700000000000, "metadata": {"team": "web", "n": 3},
        "attachments": [{"url": "https://example.com/a.png", "mime_type": "image/png", "name": "a.png"}]})",
                          "fallback", m, error));
    CHECK(error.empty());
    CHECK(m.text == "Release notes #Launch https://example.com/r");
    CHECK(m.author == "Alice");
    CHECK(m.author_id == "alice@acme.example");
    CHECK(m.channel == "news");
    CHECK(m.native_id == "n-1");
    CHECK(m.thread_id == "t-1");
    CHECK(m.reply_to == "n-0");
    CHECK(m.kind == Kind::reply);
    CHECK(m.level == Level::internal);
    CHECK(m.language == "fr");
    CHECK(m.tags == Strings{"archive", "launch"});
    CHECK(m.mentions == Strings{"bob"});
    CHECK(m.links == Strings{"https://example.com/permalink", "https://example.com/r"});
    CHECK(m.created_at_ms == 1700000000000);
    CHECK(m.meta("team") == "web");
    CHECK(m.meta("n") == "3");
    REQUIRE(m.attachments.size() == 1);
    CHECK(m.attachments[0].mime_type == "image/png");
}

TEST_CASE("parse_payload accepts the usual aliases and Slack's payload", "[webhook][inbound]") {
    Message m;
    std::string error;
    REQUIRE(parse_payload(R"({"text": "deploy done", "username": "ci-bot", "userid": "U42", "id": 1234,
        "lang": "en", "channel": "#ops", "icon_emoji": ":rocket:", "mrkdwn": true, "tags": "a, b"})",
                          "", m, error));
    CHECK(m.author == "ci-bot");
    CHECK(m.author_id == "U42");
    CHECK(m.native_id == "1234");
    CHECK(m.language == "en");
    CHECK(m.channel == "ops");
    CHECK(m.tags == Strings{"a", "b"});

    // Every leading marker goes, as the fuzz test found: "##veille" is the tag "veille" too.
    REQUIRE(parse_payload(R"({"text": "x", "tags": "##Veille, #, b", "mentions": ["@@bob", "@"]})", "", m, error));
    CHECK(m.tags == Strings{"veille", "b"});
    CHECK(m.mentions == Strings{"bob"});

    REQUIRE(parse_payload(R"({"text": "hi", "user_name": "x", "user_id": "y", "thread_ts": "1.2"})", "default", m,
                          error));
    CHECK(m.author == "x");
    CHECK(m.author_id == "y");
    CHECK(m.thread_id == "1.2");
    CHECK(m.channel == "default");
    CHECK(m.kind == Kind::post);
    CHECK(m.level == Level::unset);

    // The canonical name wins over its alias; fields the host owns are ignored.
    REQUIRE(parse_payload(R"({"text": "t", "author": "real", "username": "alias", "source": "spoofed",
        "trace": ["x"], "network": "n", "received_at_ms": 5})",
                          "", m, error));
    CHECK(m.author == "real");
    CHECK(m.source.empty());
    CHECK(m.trace.empty());
    CHECK(m.received_at_ms == 0);
}

TEST_CASE("parse_payload refuses what is not a message, saying why", "[webhook][inbound]") {
    Message m;
    std::string error;
    CHECK_FALSE(parse_payload("{\"text\": \"caf\xC3\"}", "", m, error));
    CHECK(error.find("not valid UTF-8") != std::string::npos);
    CHECK_FALSE(parse_payload("{\"text\": ", "", m, error));
    CHECK(error.find("not valid JSON") != std::string::npos);
    CHECK_FALSE(parse_payload("[1, 2]", "", m, error));
    CHECK(error.find("JSON object") != std::string::npos);
    CHECK_FALSE(parse_payload(R"({"username": "x"})", "", m, error));
    CHECK(error.find("missing \"text\"") != std::string::npos);
    CHECK_FALSE(parse_payload(R"({"text": "lone surrogate \ud800"})", "", m, error)); // not Unicode text either
    CHECK(error.find("not valid JSON") != std::string::npos);
    CHECK_FALSE(parse_payload(R"({"text": 42})", "", m, error));
    CHECK(error == "text: expected a string");
    CHECK_FALSE(parse_payload(R"({"text": "   "})", "", m, error));
    CHECK(error == "text is empty");
    CHECK_FALSE(parse_payload(R"({"text": "x", "level": "top-secret"})", "", m, error));
    CHECK(error.find("level") != std::string::npos);
    CHECK_FALSE(parse_payload(R"({"text": "x", "kind": "shout"})", "", m, error));
    CHECK(error.find("kind") != std::string::npos);
    CHECK_FALSE(parse_payload(R"({"text": "x", "tags": [1]})", "", m, error));
    CHECK(error.find("tags") != std::string::npos);
    // A delete needs no text.
    CHECK(parse_payload(R"({"text": "", "kind": "delete", "reply_to": "n-1"})", "", m, error));
}

TEST_CASE("signatures are HMAC-SHA256 in hex, compared whatever the case", "[webhook][signature]") {
    // RFC 4231, test case 2.
    CHECK(sign_body("Jefe", "what do ya want for nothing?") ==
          "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    std::string sig = sign_body("s3cret", "{\"text\":\"hi\"}");
    CHECK(signature_matches(sig, "s3cret", "{\"text\":\"hi\"}"));
    CHECK(signature_matches("SHA256=" + sig.substr(7), "s3cret", "{\"text\":\"hi\"}"));
    CHECK_FALSE(signature_matches(sig, "other", "{\"text\":\"hi\"}"));
    CHECK_FALSE(signature_matches(sig, "s3cret", "{\"text\":\"hi!\"}"));
    CHECK_FALSE(signature_matches(sig.substr(7), "s3cret", "{\"text\":\"hi\"}"));
    CHECK_FALSE(signature_matches("", "s3cret", ""));
}

TEST_CASE("outgoing bodies: json carries the message, rendered and delivery, slack the rendered text",
          "[webhook][outbound]") {
    Message m;
    m.id = "01HX";
    m.author = "Alice";
    m.author_id = "alice@acme.example";
    m.text = "raw text";
    m.tags = {"veille"};
    Delivery d{"#general", "Alice: raw text", "key-1", 2, "parent-9"};

    auto j = boost::json::parse(build_payload(Format::json, m, d)).as_object();
    CHECK(j.at("id").as_string() == "01HX");
    CHECK(j.at("text").as_string() == "raw text");
    CHECK(j.at("rendered").as_string() == "Alice: raw text");
    CHECK(j.at("tags").as_array().at(0).as_string() == "veille");
    CHECK(j.at("delivery").at("key").as_string() == "key-1");
    CHECK(j.at("delivery").at("channel").as_string() == "#general");
    CHECK(j.at("delivery").at("attempt").to_number<int>() == 2);

    auto s = boost::json::parse(build_payload(Format::slack, m, d)).as_object();
    CHECK(s.at("text").as_string() == "Alice: raw text");
    CHECK(s.at("username").as_string() == "Alice");
    CHECK(s.at("channel").as_string() == "#general");
    CHECK(s.at("thread_ts").as_string() == "parent-9");
    CHECK(s.size() == 4);

    CHECK(parse_format("slack") == Format::slack);
    CHECK_FALSE(parse_format("xml"));
}

TEST_CASE("url_origin hides the path and credentials of a webhook URL", "[webhook][outbound]") {
    CHECK(url_origin("https://hooks.slack.com/services/T0/B0/SECRET") == "https://hooks.slack.com");
    CHECK(url_origin("http://user:pw@127.0.0.1:8080/x?y") == "http://127.0.0.1:8080");
    CHECK(url_origin("http://h") == "http://h");
}
