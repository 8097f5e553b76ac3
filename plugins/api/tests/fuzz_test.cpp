// Random input for what a client posts: Matterbridge messages mutated byte by byte, and random timestamps.
// No crash, no exception, and what is accepted keeps its meaning when written back.
#include "convert.hpp"
#include "mb_message.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace relais::api;

namespace {
const char *const seeds[] = {
    R"({"text":"hello #veille","username":"alice","userid":"u1","channel":"general","gateway":"g","id":"x1"})",
    R"({"Text":"ré\u00e9","timestamp":"2024-05-01T12:00:00.250+02:00","parent_id":"p","Extra":{"file":[{"Name":"a.png","URL":"http://x/a.png"}]}})",
    R"({"event":"msg_delete","id":"api-42","channel":"c"})",
    R"({"event":"user_typing","text":"","avatar":null,"unknown":[1,{"a":null}]})",
};
// One to eight random edits (replace, insert, delete) with characters JSON parsers care about.
std::string mutate(std::string s, std::mt19937 &rng) {
    static const char chars[] = "{}[]\":,\\ 0123456789.eE+-tfnulZT\xc3\xa9\x80\xff\x00";
    static const std::string alphabet(chars, sizeof chars - 1); // with the NUL
    for (int edits = 1 + static_cast<int>(rng() % 8); edits > 0; --edits) {
        size_t at = s.empty() ? 0 : rng() % s.size();
        char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
        case 0: if (!s.empty()) s[at] = c; break;
        case 1: s.insert(s.begin() + static_cast<long>(at), c); break;
        default: if (!s.empty()) s.erase(at, 1);
        }
    }
    return s;
}
} // namespace

TEST_CASE("fuzz: mutated posts never crash the parser, and what parses writes back to the same message") {
    std::mt19937 rng(20261127);
    size_t parsed = 0, relayed = 0;
    for (int round = 0; round < 30000; ++round) {
        std::string body = mutate(seeds[rng() % std::size(seeds)], rng);
        std::string error;
        std::optional<MbMessage> m;
        REQUIRE_NOTHROW(m = parse_mb_message(body, error));
        if (!m) {
            CHECK_FALSE(error.empty());
            continue;
        }
        ++parsed;
        std::string again_error;
        auto again = parse_mb_message(mb_to_json_text(*m), again_error);
        REQUIRE(again);
        CHECK(again->text == m->text);
        CHECK(again->username == m->username);
        CHECK(again->channel == m->channel);
        CHECK(again->event == m->event);
        CHECK(again->id == m->id);
        CHECK(again->timestamp_ms == m->timestamp_ms);

        std::optional<Inbound> in;
        REQUIRE_NOTHROW(in = to_relais(*m, InboundDefaults{"acct", "gw", "api-1", 1'700'000'000'000}, error));
        if (in && in->message) {
            ++relayed;
            CHECK_FALSE(in->message->channel.empty());
        }
    }
    INFO("parsed " << parsed << ", relayed " << relayed);
    CHECK(parsed > 1000); // the mutations must leave enough valid posts to test the writing back
    CHECK(relayed > 500);
}

TEST_CASE("fuzz: random timestamps never crash, and a parsed one formats and parses back to the same instant") {
    std::mt19937 rng(7);
    const std::string alphabet = "0123456789-:T.Zz+ ";
    size_t parsed = 0;
    for (int round = 0; round < 50000; ++round) {
        std::string s = "2024-05-01T12:00:00.250Z";
        for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
            size_t at = rng() % (s.size() + 1);
            if (rng() % 2 && at < s.size()) s[at] = alphabet[rng() % alphabet.size()];
            else s = s.substr(0, at) + alphabet[rng() % alphabet.size()] + s.substr(at);
        }
        if (rng() % 5 == 0) s.resize(rng() % (s.size() + 1)); // cut short
        std::optional<int64_t> ms;
        REQUIRE_NOTHROW(ms = parse_rfc3339(s));
        if (!ms) continue;
        ++parsed;
        INFO(s << " → " << *ms << " → " << format_rfc3339(*ms));
        CHECK(parse_rfc3339(format_rfc3339(*ms)) == ms);
    }
    CHECK(parsed > 1000);
}
