// Splitting, cutting and hashtags.
#include "text.hpp"

#include <catch2/catch.hpp>

using namespace relais::xmpp;

TEST_CASE("split_text cuts between words and never inside a code point") {
    CHECK(split_text("short", 100) == std::vector<std::string>{"short"});
    CHECK(split_text("", 100) == std::vector<std::string>{""});
    auto pieces = split_text("one two three four", 10);
    CHECK(pieces == std::vector<std::string>{"one two ", "three four"});
    std::string accents;
    for (int i = 0; i < 50; ++i) accents += "é";
    for (const auto &p : split_text(accents, 7)) {
        CHECK(p.size() <= 7);
        CHECK(p.size() % 2 == 0);
    }
}

TEST_CASE("cut_utf8 keeps whole code points") {
    CHECK(cut_utf8("ééé", 5) == "éé");
    CHECK(cut_utf8("abc", 5) == "abc");
}

TEST_CASE("hashtags: lowercased, once each, not glued to a preceding word") {
    CHECK(hashtags("Lyon office #Veille and #veille again, #archive.") ==
          std::vector<std::string>{"veille", "archive"});
    CHECK(hashtags("issue#12 #123 # #été").size() == 1);
    CHECK(hashtags("#été") == std::vector<std::string>{"été"});
}
