// Facets in outgoing posts (UTF-8 byte offsets), the post record, TIDs, times, at:// URIs and the watch rules.
#include "facets.hpp"
#include "post_record.hpp"
#include "watch.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace bluesky;

TEST_CASE("find_facets gives UTF-8 byte offsets for links, mentions and tags") {
    std::string text = "Café ✨ @Alice.Test see https://example.com/a?b=1. #launch2026 #42 (https://x.org/p_(1))";
    auto spans = find_facets(text);
    REQUIRE(spans.size() == 4);
    CHECK(spans[0].kind == FacetSpan::Kind::mention);
    CHECK(spans[0].value == "alice.test");
    CHECK(text.substr(spans[0].byte_start, spans[0].byte_end - spans[0].byte_start) == "@Alice.Test");
    CHECK(spans[0].byte_start == 10); // "Café " is 6 bytes, "✨ " 4
    CHECK(spans[1].kind == FacetSpan::Kind::link);
    CHECK(spans[1].value == "https://example.com/a?b=1"); // the full stop ends the sentence
    CHECK(spans[2].kind == FacetSpan::Kind::tag);
    CHECK(spans[2].value == "launch2026");
    CHECK(text.substr(spans[2].byte_start, spans[2].byte_end - spans[2].byte_start) == "#launch2026");
    CHECK(spans[3].value == "https://x.org/p_(1)"); // its own parentheses stay, the enclosing one goes
}

TEST_CASE("find_facets leaves alone what is not a handle, a tag or a link") {
    CHECK(find_facets("mail me: bob@example.com, @nodot, @-bad.test, a#b, #123, http://").empty());
    CHECK(find_facets("#" + std::string(65, 'a')).empty());
    CHECK(find_facets("#été").size() == 1);
}

TEST_CASE("is_valid_handle") {
    CHECK(is_valid_handle("alice.bsky.social"));
    CHECK(is_valid_handle("a-b.test"));
    CHECK_FALSE(is_valid_handle("alice"));
    CHECK_FALSE(is_valid_handle("alice.123"));
    CHECK_FALSE(is_valid_handle("al_ice.test"));
    CHECK_FALSE(is_valid_handle("alice..test"));
}

TEST_CASE("make_post_record resolves mentions to DIDs and drops the ones that do not resolve") {
    HandleResolver resolve = [](const std::string &h) -> std::optional<std::string> {
        if (h == "bob.test") return "did:plc:bob";
        return std::nullopt;
    };
    ReplyRefs reply{{"at://did:plc:x/app.bsky.feed.post/root", "bafyroot"},
                    {"at://did:plc:x/app.bsky.feed.post/parent", "bafyparent"}};
    auto record =
        make_post_record("hé @bob.test @ghost.test #tag", resolve, reply, {"fr"}, "2026-01-01T00:00:00.000Z");
    auto &facets = record.at("facets").as_array();
    REQUIRE(facets.size() == 2);
    CHECK(facets[0].at("index").at("byteStart").to_number<int>() == 4);
    CHECK(facets[0].at("index").at("byteEnd").to_number<int>() == 13);
    CHECK(facets[0].at("features").at(0).at("did") == "did:plc:bob");
    CHECK(facets[1].at("features").at(0).at("$type") == "app.bsky.richtext.facet#tag");
    CHECK(record.at("reply").at("root").at("cid") == "bafyroot");
    CHECK(record.at("reply").at("parent").at("uri") == "at://did:plc:x/app.bsky.feed.post/parent");
    CHECK(record.at("langs").at(0) == "fr");
    CHECK_FALSE(make_post_record("plain", resolve, std::nullopt, {}, "t").contains("facets"));
}

TEST_CASE("TIDs are 13 sortable characters, times and at:// URIs read back") {
    std::string a = make_tid(1'700'000'000'000'000ULL, 5), b = make_tid(1'700'000'000'000'001ULL, 5);
    CHECK(a.size() == 13);
    CHECK(a < b);
    CHECK(a.find_first_not_of("234567abcdefghijklmnopqrstuvwxyz") == std::string::npos);
    CHECK(std::string("234567abcdefghij").find(a[0]) != std::string::npos); // the top bit is 0
    CHECK(iso_time(1'795'000'000'123) == "2026-11-18T11:06:40.123Z");
    CHECK(parse_iso_time("2026-11-18T11:06:40.123Z") == 1'795'000'000'123);
    CHECK(parse_iso_time("2026-11-18T13:06:40+02:00") == 1'795'000'000'000);
    CHECK_FALSE(parse_iso_time("yesterday"));
    auto uri = parse_at_uri("at://did:plc:abc/app.bsky.feed.post/3kxyz");
    REQUIRE(uri);
    CHECK(uri->repo == "did:plc:abc");
    CHECK(uri->rkey == "3kxyz");
    CHECK_FALSE(parse_at_uri("https://bsky.app/profile/x/post/y"));
    CHECK_FALSE(parse_at_uri("at://did:plc:abc/app.bsky.feed.post"));
}

TEST_CASE("match_post: mention by DID or @handle, follow, keyword, never our own posts") {
    WatchRules rules;
    rules.mention_dids = {"did:plc:acme"};
    rules.mention_handles = {"acmecorp.test"};
    rules.follow_dids = {"did:plc:friend"};
    rules.keywords = {"rivalcorp"};
    rules.ignore_dids = {"did:plc:acme"};
    Post p;
    p.author_did = "did:plc:someone";
    p.text = "nothing to see";
    CHECK_FALSE(match_post(rules, p));
    p.mention_dids = {"did:plc:acme"};
    CHECK(match_post(rules, p) == "mention");
    p.mention_dids.clear();
    p.text = "Thanks @AcmeCorp.test!";
    CHECK(match_post(rules, p) == "mention");
    p.text = "ask @acmecorp.testing instead";
    CHECK_FALSE(match_post(rules, p));
    p.text = "RivalCorp launched";
    CHECK(match_post(rules, p) == "keyword");
    p.author_did = "did:plc:friend";
    CHECK(match_post(rules, p) == "follow");
    p.author_did = "did:plc:acme";
    p.text = "@acmecorp.test talking to myself";
    CHECK_FALSE(match_post(rules, p));
}
