// Watch themes: parsed from `themes:` with the config's diagnostics, compiled into "theme:NAME" routes.
#include "route/router.hpp"
#include "route/themes.hpp"
#include "test_config.hpp"

#include <catch2/catch.hpp>

using namespace relais;

namespace {

RouteTable table_from(const std::string &yaml, Diagnostics &diags) {
    Config config = parse_config("plugins: []\n" + yaml, "test.yaml", diags);
    return compile_routes(config, test::standard_instances(), diags);
}

Router router(const std::string &yaml) {
    Diagnostics d("test.yaml");
    RouteTable t = table_from(yaml, d);
    INFO(test::all(d));
    REQUIRE(d.empty());
    return Router(std::move(t));
}

Message item(std::string text, std::string language = "fr", std::string link = "https://news.example/a") {
    Message m;
    m.source = "feed";
    m.text = std::move(text);
    m.level = Level::public_;
    m.language = std::move(language);
    m.links = {std::move(link)};
    m.trace = {m.source};
    return m;
}

} // namespace

TEST_CASE("a theme relays the items holding its keywords to its room, naming its owner") {
    Router r = router(R"(themes:
  - name: hydrogen
    keywords: [hydrogène, "pile à combustible"]
    language: fr
    from: [feed]
    to: team/veille-energie
    owner: "@marie"
)");
    Message m = item("Une pile à combustible record — résumé");
    Plan p = r.route(m);
    REQUIRE(p.deliveries.size() == 1);
    CHECK(p.deliveries[0].route == "theme:hydrogen");
    CHECK(p.deliveries[0].instance == "team");
    CHECK(p.deliveries[0].channel == "veille-energie");
    CHECK(p.deliveries[0].rendered ==
          "@marie [hydrogen] Une pile à combustible record — résumé https://news.example/a");

    Message english = item("Hydrogène in French only", "en");
    CHECK(r.route(english).deliveries.empty());
    Message other = item("Le prix du pétrole", "fr");
    CHECK(r.route(other).deliveries.empty());
    Message elsewhere = item("hydrogène", "fr");
    elsewhere.source = "chat";
    elsewhere.trace = {"chat"};
    CHECK(r.route(elsewhere).deliveries.empty());
}

TEST_CASE("themes come after the routes: a dropped item reaches no theme, several themes may match one item") {
    Router r = router(R"(routes:
  - name: spam
    when: { keywords: [casino] }
    do: [drop]
themes:
  - { name: energy, keywords: [hydrogen], to: team/energy, owner: marie }
  - { name: cars, keywords: [car], to: team/cars }
)");
    Message both = item("A hydrogen car", "en");
    Plan p = r.route(both);
    REQUIRE(p.deliveries.size() == 2);
    CHECK(p.deliveries[0].rendered == "@marie [energy] A hydrogen car https://news.example/a");
    CHECK(p.deliveries[1].rendered == "[cars] A hydrogen car https://news.example/a");
    Message spam = item("hydrogen casino", "en");
    CHECK(r.route(spam).deliveries.empty());
}

TEST_CASE("braces in a theme's owner or name stay literal") {
    Theme t;
    t.name = "a{b}";
    t.owner = "{x}";
    CHECK(theme_template(t) == "@{{x}} [a{{b}}] {text} {link}");
}

TEST_CASE("theme mistakes are reported at their line with a did-you-mean") {
    Diagnostics d("test.yaml");
    table_from(R"(themes:
  - name: hydrogen
    keyword: [h2]
    to: tem/energy
  - name: hydrogen
    keywords: []
    from: outside
  - keywords: [x]
    to: team
themse: []
)",
               d);
    const std::string out = test::all(d);
    INFO(out);
    CHECK(out.find("test.yaml:4:5: unknown key 'keyword' in theme 'hydrogen' (did you mean 'keywords'?)") !=
          std::string::npos);
    CHECK(out.find("test.yaml:3:5: theme 'hydrogen' has no keywords:") != std::string::npos);
    CHECK(out.find("test.yaml:5:9: theme 'hydrogen' to: unknown plugin instance 'tem' (did you mean 'team'?)") !=
          std::string::npos);
    CHECK(out.find("test.yaml:6:11: theme name 'hydrogen' is used by another theme already") != std::string::npos);
    CHECK(out.find("test.yaml:7:15: theme 'hydrogen' keywords: an empty list can never match") != std::string::npos);
    CHECK(out.find("theme 'hydrogen' has no to:") != std::string::npos);
    CHECK(out.find("test.yaml:8:11: theme 'hydrogen' from: instance 'outside' (plugin bluesky) cannot emit messages") !=
          std::string::npos);
    CHECK(out.find("test.yaml:9:5: theme without a name") != std::string::npos);
    CHECK(out.find("unknown key 'themse' in the configuration (did you mean 'themes'?)") != std::string::npos);
}

TEST_CASE("a theme whose route name is taken is refused") {
    Diagnostics d("test.yaml");
    table_from(R"(routes:
  - { name: "theme:h2", do: [drop] }
themes:
  - { name: h2, keywords: [h2], to: team }
)",
               d);
    CHECK(test::all(d).find("a route is already named 'theme:h2'") != std::string::npos);
}
