// The recorded payloads read into entities, and statuses turned into messages.
#include "entities.hpp"
#include "payloads.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

using namespace relais::mastodon;
using Catch::Matchers::Contains;
using mastodon_test::payload;

namespace {

MastodonConfig config() {
    MastodonConfig c;
    c.server = "https://mastodon.example";
    return c;
}

std::vector<Notification> notifications() {
    std::vector<Notification> out;
    for (const auto &v : parse_array(payload("notifications_mentions.json")))
        out.push_back(parse_notification(v));
    return out;
}

std::vector<Status> statuses(const std::string &file) {
    std::vector<Status> out;
    for (const auto &v : parse_array(payload(file)))
        out.push_back(parse_status(v));
    return out;
}

} // namespace

TEST_CASE("entities: a mention notification becomes a message with every field", "[entities]") {
    auto ns = notifications();
    REQUIRE(ns.size() == 3);
    const Notification &n = ns[2];
    CHECK(n.id == "3501");
    CHECK(n.type == "mention");
    REQUIRE(n.status);
    auto m = to_message(*n.status, config(), "mentions");
    REQUIRE(m);
    CHECK(m->native_id == "109400000000000201");
    CHECK(m->channel == "mentions");
    CHECK(m->kind == relais::Kind::post);
    CHECK(m->author == "Claire :blobcat:");
    CHECK(m->author_id == "claire@rival.example");
    CHECK(m->text == "@acme Vous avez vu l'appel d'offres ? #veille https://www.example.org/ao/2026/lyon-office\n\n"
                     "Deuxi\xC3\xA8me paragraphe :blobcat:\nnouvelle ligne & fin \xF0\x9F\x9A\x80");
    CHECK(m->links == std::vector<std::string>{"https://rival.example/@claire/109400000000000201",
                                               "https://www.example.org/ao/2026/lyon-office"});
    CHECK(m->tags == std::vector<std::string>{"veille"});
    CHECK(m->mentions == std::vector<std::string>{"acme@mastodon.example"});
    CHECK(m->language == "fr");
    CHECK(m->level == relais::Level::public_);
    CHECK(m->created_at_ms == 1795598102481);
    CHECK(m->meta("visibility") == "public");
    CHECK(m->meta("account_url") == "https://rival.example/@claire");
}

TEST_CASE("entities: a direct mention is left out unless `visibilities` lists it, then it is confidential",
          "[entities]") {
    auto ns = notifications();
    const Status &direct = *ns[1].status;
    std::string why;
    CHECK_FALSE(to_message(direct, config(), "mentions", &why));
    CHECK_THAT(why, Contains("direct"));
    MastodonConfig c = config();
    c.visibilities.insert("direct");
    auto m = to_message(direct, c, "mentions");
    REQUIRE(m);
    CHECK(m->level == relais::Level::confidential);
    CHECK(m->author_id == "bob@mastodon.example"); // a local acct gets the server's host
}

TEST_CASE("entities: a reply keeps what it answers, and its media become attachments", "[entities]") {
    auto m = to_message(*notifications()[0].status, config(), "mentions");
    REQUIRE(m);
    CHECK(m->kind == relais::Kind::reply);
    CHECK(m->reply_to == "109400000000000150");
    REQUIRE(m->attachments.size() == 1);
    CHECK(m->attachments[0].url ==
          "https://files.mastodon.example/media_attachments/files/109/400/000/original/plan.png");
    CHECK(m->attachments[0].mime_type == "image/*");
    CHECK(m->attachments[0].name == "Plan du bureau de Lyon");
}

TEST_CASE("entities: content warnings are shown first, hidden or skipped as configured", "[entities]") {
    auto page = statuses("timeline_tag_veille.json");
    REQUIRE(page.size() == 3);
    const Status &cw = page[1];
    REQUIRE(cw.spoiler_text == "chiffres non publi\xC3\xA9s");
    MastodonConfig c = config();
    auto shown = to_message(cw, c, "#veille");
    REQUIRE(shown);
    CHECK(shown->text ==
          "CW: chiffres non publi\xC3\xA9s\n\nLes chiffres du trimestre, d\xC3\xA9tails dans le fil #veille");
    CHECK(shown->meta("spoiler_text") == "chiffres non publi\xC3\xA9s");
    CHECK(shown->meta("sensitive") == "true");
    CHECK(shown->tags == std::vector<std::string>{"veille", "finance"});
    c.content_warning = ContentWarning::hide;
    CHECK(to_message(cw, c, "#veille")->text == "CW: chiffres non publi\xC3\xA9s");
    c.content_warning = ContentWarning::skip;
    CHECK_FALSE(to_message(cw, c, "#veille"));
    CHECK(to_message(page[0], c, "#veille")); // no warning: still relayed
}

TEST_CASE("entities: a boost relays the boosted status, under the boost's id", "[entities]") {
    auto page = statuses("account_statuses_acme.json");
    REQUIRE(page.size() == 2);
    REQUIRE(page[1].reblog);
    auto m = to_message(page[1], config(), "@acme");
    REQUIRE(m);
    CHECK(m->native_id == "109400000000000402");
    CHECK(m->text == "Acme recrute \xC3\xA0 Nantes");
    CHECK(m->author_id == "news@presse.example");
    CHECK(m->meta("boosted_by") == "acme@mastodon.example");
    CHECK(m->links[0] == "https://presse.example/@news/109400000000000401");
}

TEST_CASE("entities: a malformed item is refused with what is wrong in it", "[entities]") {
    auto items = parse_array(payload("timeline_tag_malformed_item.json"));
    REQUIRE(items.size() == 2);
    CHECK(parse_status(items[0]).id == "109400000000000305");
    CHECK_THROWS_WITH(parse_status(items[1]), Contains("109400000000000310") && Contains("not a JSON object"));
    CHECK_THROWS_AS(parse_array(payload("truncated_page.json")), PayloadError);
    CHECK_THROWS_WITH(parse_status(boost::json::parse(R"({"id": "5", "account": {"id": "1"}, "tags": "x"})")),
                      Contains("\"tags\" is not a list"));
    CHECK_THROWS_WITH(parse_status(boost::json::parse(R"({"content": "<p>x</p>"})")), Contains("no \"id\""));
}

TEST_CASE("entities: the Error entity's message", "[entities]") {
    CHECK(error_message(payload("error_validation.json")) == "Validation failed: Text character limit of 500 exceeded");
    CHECK(error_message(
              R"({"error":"invalid_grant","error_description":"The provided authorization grant is invalid"})") ==
          "invalid_grant: The provided authorization grant is invalid");
    CHECK(error_message("<html>Bad Gateway</html>") == "<html>Bad Gateway</html>");
}

TEST_CASE("entities: times, ids and levels", "[entities]") {
    CHECK(parse_iso_time("2019-12-08T03:48:33.901Z") == 1575776913901);
    CHECK(parse_iso_time("2019-12-08T04:48:33+01:00") == 1575776913000);
    CHECK_FALSE(parse_iso_time("yesterday"));
    CHECK(id_newer("109400000000000302", "109400000000000301"));
    CHECK(id_newer("10000", "9999"));
    CHECK_FALSE(id_newer("3501", "3501"));
    CHECK(level_of("unlisted") == relais::Level::public_);
    CHECK(level_of("private") == relais::Level::internal);
}
