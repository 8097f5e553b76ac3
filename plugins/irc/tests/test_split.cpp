// Splitting texts into IRC-sized pieces: one per line, at most N bytes, never inside a code point, nothing lost.
#include "split.hpp"
#include "line.hpp"

#include <catch2/catch.hpp>

using namespace relais::irc;

namespace {
std::string join(const std::vector<std::string> &pieces) {
    std::string out;
    for (const auto &p : pieces) out += p;
    return out;
}
} // namespace

TEST_CASE("one piece per line of the text, CR and empty lines dropped") {
    CHECK(split_text("hello", 400) == std::vector<std::string>{"hello"});
    CHECK(split_text("one\r\ntwo\n\nthree\n", 400) == std::vector<std::string>{"one", "two", "three"});
    CHECK(split_text("", 400).empty());
    CHECK(split_text("\n\r\n", 400).empty());
    CHECK(split_text(std::string("a\0b", 3), 400) == std::vector<std::string>{"ab"});
}

TEST_CASE("a long line is cut at a space in the second half of the piece, keeping every byte") {
    std::string line;
    for (int i = 0; i < 200; ++i) line += "word" + std::to_string(i) + " ";
    auto pieces = split_text(line, 100);
    REQUIRE(pieces.size() > 10);
    for (size_t i = 0; i < pieces.size(); ++i) {
        CHECK(pieces[i].size() <= 100);
        if (i + 1 < pieces.size()) CHECK(pieces[i].size() >= 50);
    }
    for (size_t i = 0; i + 1 < pieces.size(); ++i) CHECK(pieces[i].back() == ' ');
    CHECK(join(pieces) == line);
}

TEST_CASE("multi-byte characters are never cut") {
    // é (2 bytes), € (3 bytes), 😀 (4 bytes), without spaces: every cut falls on a boundary.
    std::string line;
    for (int i = 0; i < 300; ++i) line += i % 3 == 0 ? "\xc3\xa9" : i % 3 == 1 ? "\xe2\x82\xac" : "\xf0\x9f\x98\x80";
    for (size_t max : {1u, 2u, 3u, 4u, 5u, 7u, 100u, 401u}) {
        auto pieces = split_text(line, max);
        CHECK(join(pieces) == line);
        // With room for the longest code point (4 bytes), every piece is whole UTF-8 within the limit.
        if (max >= 4)
            for (const auto &p : pieces) {
                CHECK(valid_utf8(p));
                CHECK(p.size() <= max);
            }
    }
}

TEST_CASE("utf8_boundary always moves forward, even on bytes that are not UTF-8") {
    CHECK(utf8_boundary("abc", 10) == 3);
    CHECK(utf8_boundary("a\xc3\xa9", 2) == 1);
    CHECK(utf8_boundary("\xc3\xa9", 1) == 1); // cannot fit one code point: cut anyway, progress wins
    CHECK(utf8_boundary("\x80\x80\x80\x80\x80", 3) == 3);
    CHECK(utf8_boundary("abc", 0) == 1);
}

TEST_CASE("a 512-byte line budget: a PRIVMSG with the longest prefix fits") {
    std::string nick = "relais", target = "#channel";
    std::string mask = nick + "!~relais@" + std::string(63, 'h');
    size_t budget = max_line_bytes - (1 + mask.size() + 9 + target.size() + 2 + 2);
    std::string text(5000, 'x');
    for (const auto &piece : split_text(text, budget)) {
        std::string relayed = ":" + mask + " " + format_line("PRIVMSG", {target, piece}) + "\r\n";
        CHECK(relayed.size() <= max_line_bytes);
    }
}
