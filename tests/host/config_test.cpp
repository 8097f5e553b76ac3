#include "test_config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace relais;

TEST_CASE("a valid configuration parses with its host settings") {
    Diagnostics d("c.yaml");
    Config c = parse_config(R"(host:
  data_dir: /tmp/x
  log: { level: debug, format: json }
  admin: { listen: 127.0.0.1:9999 }
  delivery: { max_attempts: 3, retry_backoff: 2s, id_map_retention: 30d }
plugins:
  - id: feed
    use: rss
    level: public
    config: { url: "http://x" }
)",
                            "c.yaml", d);
    INFO(test::all(d));
    REQUIRE(d.empty());
    CHECK(c.host.id_map_retention == std::chrono::hours(30 * 24));
    CHECK(c.host.data_dir == "/tmp/x");
    CHECK(c.host.log_format == "json");
    CHECK(c.host.admin_port == 9999);
    CHECK(c.host.max_attempts == 3);
    CHECK(c.host.retry_backoff == std::chrono::seconds(2));
    REQUIRE(c.instances.size() == 1);
    CHECK(c.instances[0].level == Level::public_);
    CHECK(c.instances[0].config["url"].Scalar() == "http://x");
}

TEST_CASE("id_map_retention defaults to 90 days, 0 keeps mappings for ever, and a bad value names the key") {
    Diagnostics d("c.yaml");
    CHECK(parse_config("plugins: []\n", "c.yaml", d).host.id_map_retention == std::chrono::hours(90 * 24));
    CHECK(parse_config("host: { delivery: { id_map_retention: 0 } }\nplugins: []\n", "c.yaml", d)
              .host.id_map_retention.count() == 0);
    REQUIRE(d.empty());
    parse_config("host:\n  delivery: { id_map_retention: forever }\nplugins: []\n", "c.yaml", d);
    CHECK(test::all(d).find("c.yaml:2:33: host.delivery.id_map_retention: \"forever\" is not a duration") !=
          std::string::npos);
}

TEST_CASE("every mistake is reported with its line and column") {
    Diagnostics d("bad.yaml");
    parse_config(R"(hots:
  data_dir: x
plugins:
  - id: Feed
    use: rss
    levl: public
  - id: b
    use: rss
    level: topsecret
)",
                 "bad.yaml", d);
    const std::string out = test::all(d);
    INFO(out);
    REQUIRE(d.items().size() == 4);
    CHECK(out.find("bad.yaml:1:1: unknown key 'hots' in the configuration (did you mean 'host'?)") != std::string::npos);
    CHECK(out.find("bad.yaml:4:9: id 'Feed'") != std::string::npos);
    CHECK(out.find("bad.yaml:6:5: unknown key 'levl' in a plugin instance (did you mean 'level'?)") != std::string::npos);
    CHECK(out.find("bad.yaml:9:12: level 'topsecret'") != std::string::npos);
}

TEST_CASE("YAML syntax errors point at the broken line") {
    Diagnostics d("broken.yaml");
    parse_config("plugins:\n  - id: a\n    use: [rss\n", "broken.yaml", d);
    REQUIRE(d.items().size() == 1);
    CHECK(d.items()[0].line >= 3);
    CHECK(d.items()[0].message.find("YAML syntax") == 0);
}

TEST_CASE("duplicate instance ids are refused") {
    Diagnostics d("c.yaml");
    parse_config("plugins:\n  - {id: a, use: rss}\n  - {id: a, use: rss}\n", "c.yaml", d);
    REQUIRE(d.items().size() == 1);
    CHECK(d.items()[0].line == 3);
    CHECK(d.items()[0].message.find("used by another instance") != std::string::npos);
}

TEST_CASE("secrets come from the environment or a file") {
    std::string out, error;
    ::setenv("RELAIS_TEST_SECRET", "s3cret", 1);
    REQUIRE(expand_references("pw=${env:RELAIS_TEST_SECRET}!", out, error));
    CHECK(out == "pw=s3cret!");

    const char *path = "/tmp/relais-test-secret.txt";
    std::ofstream(path) << "from-file\n";
    REQUIRE(expand_references(std::string("${file:") + path + "}", out, error));
    CHECK(out == "from-file");

    CHECK_FALSE(expand_references("${env:RELAIS_SURELY_UNSET_VARIABLE}", out, error));
    CHECK(error.find("RELAIS_SURELY_UNSET_VARIABLE is not set") != std::string::npos);
    CHECK_FALSE(expand_references("${vault:x}", out, error));
    REQUIRE(expand_references("literal $${env:X}", out, error));
    CHECK(out == "literal ${env:X}");
}

TEST_CASE("an unset secret in a host setting is reported at its position") {
    Diagnostics d("c.yaml");
    parse_config("host:\n  data_dir: ${env:RELAIS_SURELY_UNSET_VARIABLE}\nplugins: []\n", "c.yaml", d);
    REQUIRE(d.items().size() == 1);
    CHECK(d.items()[0].line == 2);
    CHECK(d.items()[0].column == 13);
}

TEST_CASE("did-you-mean finds close words only") {
    CHECK(did_you_mean("intervall", {"interval", "feeds"}) == "interval");
    CHECK(did_you_mean("zzz", {"interval", "feeds"}).empty());
}

TEST_CASE("the embedded default configuration parses") {
    Diagnostics d("<embedded default>");
    Config c = parse_config(embedded_default_config(), "<embedded default>", d);
    INFO(test::all(d));
    CHECK(d.empty());
    CHECK(c.instances.size() >= 3);
}

TEST_CASE("a configuration that is not UTF-8 is refused at the first bad byte, with its line and column") {
    Diagnostics d("c.yaml");
    // "é" saved as Latin-1 (one byte 0xE9) in a template, after an "é" saved as UTF-8 (two bytes) on the same line.
    parse_config("plugins:\n  - { id: log, use: console }\nroutes:\n"
                 "  - { name: veillé, do: [{ relay: { to: log, template: \"caf\xe9 {text}\" } }] }\n",
                 "c.yaml", d);
    CHECK(test::all(d).find("c.yaml:4:60: the file is not UTF-8 (a byte 0xE9 here): save it as UTF-8") !=
          std::string::npos);
}
