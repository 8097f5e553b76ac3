#include "route/router.hpp"
#include "test_config.hpp"

#include <catch2/catch.hpp>

using namespace relais;

namespace {
Message msg(std::string source, std::string text, Level level = Level::internal) {
    Message m;
    m.source = std::move(source);
    m.text = std::move(text);
    m.level = level;
    m.trace = {m.source};
    return m;
}
Router router(const std::string &yaml) {
    Diagnostics d("test.yaml");
    RouteTable t = test::routes_from(yaml, d);
    INFO(test::all(d));
    REQUIRE(d.empty());
    return Router(std::move(t));
}
} // namespace

TEST_CASE("keywords match whole words, case-insensitively") {
    Router r = router(R"(  - name: watch
    from: feed
    when: { keywords: [rivalcorp, "appel d'offres"] }
    do: [{ relay: { to: team } }]
)");
    Message a = msg("feed", "News: RivalCorp wins", Level::public_);
    CHECK(r.route(a).deliveries.size() == 1);
    Message b = msg("feed", "un nouvel Appel d'offres publié", Level::public_);
    CHECK(r.route(b).deliveries.size() == 1);
    Message c = msg("feed", "rivalcorporation is another company", Level::public_);
    CHECK(r.route(c).deliveries.empty());
    Message d = msg("chat", "rivalcorp from the wrong source");
    CHECK(r.route(d).deliveries.empty());
}

TEST_CASE("tags, mentions, authors, kinds, languages and regexes are conditions") {
    Router r = router(R"(  - name: tagged
    when: { tags_any: ["#veille"], author: [alice], kind: [post, reply], language: fr, regex: "(?i)offre \\d+" }
    do: [archive]
  - name: mentioned
    when: { mentions_any: ["@acme.example"] }
    do: [{ relay: { to: team } }]
)");
    Message m = msg("chat", "Offre 42 publiée");
    m.tags = {"Veille"};
    m.author = "Alice";
    m.language = "fr-FR";
    Plan p = r.route(m);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].instance == "archive");
    CHECK(p.deliveries[0].archive);

    m.language = "en";
    CHECK(r.route(m).deliveries.empty());

    Message n = msg("chat", "hello");
    n.mentions = {"ACME.example"};
    REQUIRE(r.route(n).deliveries.size() == 1);
}

TEST_CASE("a message never reaches an instance below its level, whatever the route says") {
    Router r = router(R"(  - name: leak
    from: chat
    do: [{ relay: { to: [outside, team] } }]
)");
    Message m = msg("chat", "internal numbers", Level::confidential);
    Plan p = r.route(m);
    CHECK(p.deliveries.empty());
    REQUIRE(p.refusals.size() == 2);
    CHECK(p.refusals[0].reason == "confidentiality");
    CHECK(p.refusals[0].instance == "outside");

    Message ok = msg("chat", "lunch menu", Level::internal);
    Plan q = r.route(ok);
    REQUIRE(q.deliveries.size() == 1);
    CHECK(q.deliveries[0].instance == "team");
}

TEST_CASE("an explicit as_level lets a rule publish an internal post outside") {
    Router r = router(R"(  - name: publish
    from: chat
    when: { tags_any: [publish] }
    do: [{ relay: { to: outside, as_level: public } }]
)");
    Message m = msg("chat", "our new product #publish", Level::internal);
    m.tags = {"publish"};
    Plan p = r.route(m);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].level == Level::public_);

    // as_level never raises what a destination may receive: a secret message is still refused... by level order.
    Message s = msg("chat", "secret #publish", Level::secret);
    s.tags = {"publish"};
    CHECK(r.route(s).deliveries.size() == 1); // the rule said so explicitly: that is the point of as_level
}

TEST_CASE("drop discards the message even after earlier routes planned deliveries") {
    Router r = router(R"(  - name: all
    do: [{ relay: { to: team } }]
  - name: spam
    when: { keywords: [casino] }
    do: [drop]
)");
    Message m = msg("feed", "win at the casino", Level::public_);
    Plan p = r.route(m);
    CHECK(p.dropped);
    CHECK(p.dropped_by == "spam");
    CHECK(p.deliveries.empty());
}

TEST_CASE("stop ends evaluation, tag feeds later routes") {
    Router r = router(R"(  - name: tagger
    when: { keywords: [rivalcorp] }
    do: [{ tag: [veille] }]
  - name: archive-tagged
    when: { tags_any: [veille] }
    do: [archive, stop]
  - name: never
    do: [{ relay: { to: team } }]
)");
    Message m = msg("feed", "rivalcorp again", Level::public_);
    Plan p = r.route(m);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].instance == "archive");
    CHECK(m.tags == std::vector<std::string>{"veille"});
}

TEST_CASE("a message does not go back where it came from") {
    Router r = router(R"(  - name: echo
    do: [{ relay: { to: [chat, team] } }]
)");
    Message m = msg("chat", "hello", Level::internal);
    Plan p = r.route(m);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].instance == "team");
    REQUIRE(p.refusals.size() == 1);
    CHECK(p.refusals[0].reason == "loop");

    Message relayed = msg("feed", "came through chat before", Level::public_);
    relayed.trace = {"chat", "feed"};
    Plan q = r.route(relayed);
    REQUIRE(q.deliveries.size() == 1);
    CHECK(q.deliveries[0].instance == "team");
}

TEST_CASE("explain says why a route did not match") {
    Router r = router(R"(  - name: tagged
    when: { tags_any: [veille] }
    do: [archive]
)");
    Message m = msg("chat", "no tags");
    Plan p = r.route(m, true);
    REQUIRE_FALSE(p.explanation.empty());
    CHECK(p.explanation[0].find("route 'tagged': no match, no tag in [veille]") == 0);
}

TEST_CASE("route mistakes are reported with positions and suggestions") {
    Diagnostics d("test.yaml");
    test::routes_from(R"(  - name: a
    from: fed
    when: { tags_any: [], regex: "(unclosed", kind: posts }
    do: [{ relay: { to: feed } }, archiv]
)",
                      d);
    const std::string out = test::all(d);
    INFO(out);
    CHECK(out.find("test.yaml:4:11: route 'a' from: unknown plugin instance 'fed' (did you mean 'feed'?)") != std::string::npos);
    CHECK(out.find("tags_any: an empty list can never match") != std::string::npos);
    CHECK(out.find("regex \"(unclosed\": missing )") != std::string::npos);
    CHECK(out.find("kind: 'posts' is not one of post") != std::string::npos);
    CHECK(out.find("instance 'feed' (plugin rss) cannot receive messages") != std::string::npos);
    CHECK(out.find("unknown action 'archiv' (did you mean 'archive'?)") != std::string::npos);
}

TEST_CASE("a route whose from channel contradicts its channel condition can never match") {
    Diagnostics d("test.yaml");
    test::routes_from(R"(  - name: a
    from: chat/room1
    when: { channel: room2 }
    do: [archive]
)",
                      d);
    REQUIRE(d.items().size() == 1);
    CHECK(d.items()[0].message.find("can never match") != std::string::npos);
}

TEST_CASE("a relay with speakers publishes their posts and holds everyone else's") {
    Router r = router(R"(  - name: publish
    from: chat
    when: { tags_any: [publish] }
    do: [{ relay: { to: outside, as_level: public, speakers: ["@Marie@acme.example", comms-bot] } }]
  - name: always-ask
    from: chat
    when: { tags_any: [ask] }
    do: [{ hold: { to: outside, as_level: public } }]
)");
    Message by_speaker = msg("chat", "our new product #publish");
    by_speaker.tags = {"publish"};
    by_speaker.author = "Marie";
    by_speaker.author_id = "marie@acme.example";
    Plan p = r.route(by_speaker);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].held.empty());

    Message by_other = by_speaker;
    by_other.author = "Bob";
    by_other.author_id = "bob@acme.example";
    p = r.route(by_other);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].instance == "outside");
    CHECK(p.deliveries[0].held == "author 'Bob (bob@acme.example)' is not a speaker of route 'publish'");

    Message bot = by_other;
    bot.author = "comms-bot";
    bot.author_id.clear();
    CHECK(r.route(bot).deliveries.at(0).held.empty());

    Message asked = by_speaker; // hold asks for approval whoever writes
    asked.tags = {"ask"};
    p = r.route(asked);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].held == "route 'always-ask' holds every message");
    Plan explained = r.route(asked, true);
    bool said = false;
    for (const auto &line : explained.explanation) said = said || line.find("held for approval") != std::string::npos;
    CHECK(said);
}

TEST_CASE("speakers must be a list of names, and hold takes no speakers") {
    Diagnostics d("test.yaml");
    test::routes_from(R"(  - name: a
    from: chat
    do: [{ relay: { to: outside, speakers: [] } }]
  - name: b
    from: chat
    do: [{ hold: { to: outside, speakers: [x] } }]
)", d);
    std::string all = test::all(d);
    CHECK(all.find("speakers: an empty list") != std::string::npos);
    CHECK(all.find("unknown key 'speakers'") != std::string::npos);
    CHECK(d.items().size() == 2);
}

TEST_CASE("typographic apostrophes, quotes and no-break spaces are word boundaries") {
    Router r = router(R"(  - name: watch
    from: feed
    when: { keywords: [hydrogène, "appel d'offres", "pile à combustible"] }
    do: [{ relay: { to: team } }]
)");
    Message a = msg("feed", "L’hydrogène vert progresse", Level::public_);
    CHECK(r.route(a).deliveries.size() == 1);
    Message b = msg("feed", "Nouvel appel d’offres publié", Level::public_);
    CHECK(r.route(b).deliveries.size() == 1);
    Message c = msg("feed", "«\u00a0pile à combustible\u00a0» : le point", Level::public_);
    CHECK(r.route(c).deliveries.size() == 1);
    Message d = msg("feed", "L’hydrogénation n’est pas le sujet", Level::public_);
    CHECK(r.route(d).deliveries.empty());
    // The delivered text is the message's own, typographic punctuation included.
    CHECK(r.route(a).deliveries.at(0).rendered == "L’hydrogène vert progresse");
}
