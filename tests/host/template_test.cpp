#include "route/template.hpp"

#include <catch2/catch.hpp>

using namespace relais;

TEST_CASE("templates render the message's fields") {
    std::string error;
    auto t = Template::compile("{author} on {network}: {text} — {link} {tags} {meta.feed_title} {{x}}", error);
    REQUIRE(t);
    Message m;
    m.author = "Alice";
    m.network = "bluesky";
    m.text = "hello";
    m.links = {"https://x.example/1", "https://other"};
    m.tags = {"veille", "ai"};
    m.metadata = {{"feed_title", "News"}};
    CHECK(t->render(m) == "Alice on bluesky: hello — https://x.example/1 #veille #ai News {x}");
}

TEST_CASE("an unknown placeholder is a compile error with a suggestion") {
    std::string error;
    CHECK_FALSE(Template::compile("{autor}: {text}", error));
    CHECK(error.find("unknown placeholder {autor} (did you mean 'author'?)") != std::string::npos);
    CHECK_FALSE(Template::compile("{text", error));
}

TEST_CASE("author falls back to author_id") {
    std::string error;
    auto t = Template::compile("{author}", error);
    Message m;
    m.author_id = "bob@acme.example";
    CHECK(t->render(m) == "bob@acme.example");
}
