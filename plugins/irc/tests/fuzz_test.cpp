// Random input for the parsers that read what a server sends: no crash, and what parses writes back the same.
#include "line.hpp"
#include "split.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace relais::irc;

TEST_CASE("fuzz: parse_line on random bytes never crashes, a parsed line round-trips through format_line") {
    std::mt19937 rng(20261126);
    const std::string alphabet = "@:;= !#abcXYZ019\\\x01\x80\xc3\xa9\t";
    for (int round = 0; round < 20000; ++round) {
        std::string raw;
        size_t n = rng() % 80;
        for (size_t i = 0; i < n; ++i) raw += alphabet[rng() % alphabet.size()];
        auto line = parse_line(raw);
        if (!line) continue;
        REQUIRE_FALSE(line->command.empty());
        bool writable = true;
        for (size_t i = 0; i + 1 < line->params.size(); ++i)
            if (line->params[i].empty() || line->params[i].front() == ':' ||
                line->params[i].find(' ') != std::string::npos)
                writable = false;
        if (!writable) continue;
        auto back = parse_line(format_line(line->command, line->params));
        REQUIRE(back);
        CHECK(back->params == line->params);
    }
}

TEST_CASE("fuzz: split_text on random bytes keeps every byte but CR and NUL, and respects the limit") {
    std::mt19937 rng(42);
    for (int round = 0; round < 5000; ++round) {
        std::string text;
        size_t n = rng() % 600;
        for (size_t i = 0; i < n; ++i) text += static_cast<char>(rng() % 256);
        size_t max = 4 + rng() % 300;
        auto pieces = split_text(text, max);
        std::string expected;
        for (char c : text)
            if (c != '\r' && c != '\0' && c != '\n') expected += c;
        std::string joined;
        for (const auto &p : pieces) {
            REQUIRE(p.size() <= max);
            REQUIRE_FALSE(p.empty());
            REQUIRE(p.find('\n') == std::string::npos);
            joined += p;
        }
        CHECK(joined == expected);
        for (const auto &p : pieces) CHECK(valid_utf8(to_utf8(p)));
    }
}
