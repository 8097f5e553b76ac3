// Random input for what an inbound webhook is sent: payloads mutated byte by byte, random text, forged signatures.
// No crash, no exception, and what is accepted is a message the host can store.
#include "inbound.hpp"
#include "signature.hpp"
#include "text_scan.hpp"

#include <relais/message_json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

using namespace relais;
using namespace relais::webhook;

namespace {
const char *const payloads[] = {
    R"({"text":"Hello #Veille @alice https://example.com/a.","channel":"#general","tags":"#a, b","username":"bot"})",
    R"({"text":"x","kind":"REPLY","reply_to":12,"thread_ts":"1.2","mentions":["@bob"],"links":["http://a"]})",
    R"({"text":"","kind":"delete","native_id":"n1","metadata":{"k":"v"},"attachments":[{"url":"http://a/b.png"}]})",
    R"({"text":"é\u00e9 #tag-1 #123 mail@example.com","level":"Confidential","created_at_ms":1700000000000})",
};
std::string edited(std::string s, std::mt19937 &rng) { // a few replaced, inserted or removed characters
    static const char chars[] = "{}[]\":,\\ #@0123456789-_.aZ\xc3\xa9\xe2\x82\xac\x80\xff\x00";
    const std::string pool(chars, sizeof chars - 1);
    for (int n = 1 + static_cast<int>(rng() % 6); n > 0; --n) {
        size_t at = rng() % (s.size() + 1);
        char c = pool[rng() % pool.size()];
        if (rng() % 2 == 0 && at < s.size()) s[at] = c;
        else if (rng() % 2 == 0) s.insert(at, 1, c);
        else if (at < s.size()) s.erase(at, 1);
    }
    return s;
}
} // namespace

TEST_CASE("fuzz: mutated payloads never crash, and an accepted one is valid UTF-8 and survives the host JSON",
          "[webhook][fuzz]") {
    std::mt19937 rng(20261127);
    size_t accepted = 0;
    for (int round = 0; round < 30000; ++round) {
        std::string body = edited(payloads[rng() % std::size(payloads)], rng);
        Message m;
        std::string error;
        bool ok = false;
        REQUIRE_NOTHROW(ok = parse_payload(body, "inbox", m, error));
        if (!ok) {
            CHECK_FALSE(error.empty());
            continue;
        }
        ++accepted;
        size_t bad = 0;
        CHECK(valid_utf8(m.text, bad));
        CHECK_FALSE(m.channel.empty());
        CHECK(std::set<std::string>(m.tags.begin(), m.tags.end()).size() == m.tags.size()); // each tag once
        for (const auto &t : m.tags) CHECK((!t.empty() && t[0] != '#'));
        for (const auto &who : m.mentions) CHECK((!who.empty() && who[0] != '@'));
        Message back; // what the outbox stores and reads again
        REQUIRE(message_from_json(message_to_json(m), back, error));
        CHECK(back.text == m.text);
        CHECK(back.channel == m.channel);
        CHECK(back.tags == m.tags);
        CHECK(back.native_id == m.native_id);
    }
    CHECK(accepted > 1000);
}

TEST_CASE("fuzz: scan_text on random valid text finds only tags, mentions and links that are in it",
          "[webhook][fuzz]") {
    std::mt19937 rng(3);
    const char *pieces[] = {"#", "@", "a", "Z", "1", "_", "-", ".", " ", "é", "€", "http://", "https://x.y/", "/",
                            ")", ",", "#veille", "@bob@mastodon.social", "mail@x.org", "\n"};
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        for (size_t n = rng() % 30; n > 0; --n) text += pieces[rng() % std::size(pieces)];
        Scanned found;
        REQUIRE_NOTHROW(found = scan_text(text));
        const std::string lower = lowercase(text);
        for (const auto &t : found.tags) CHECK(lower.find("#" + t) != std::string::npos);
        for (const auto &m : found.mentions) CHECK(text.find("@" + m) != std::string::npos);
        for (const auto &l : found.links) CHECK(text.find(l) != std::string::npos);
    }
}

TEST_CASE("fuzz: a signature matches its own body only, and forged headers never match", "[webhook][fuzz]") {
    std::mt19937 rng(11);
    for (int round = 0; round < 3000; ++round) {
        std::string body = edited(payloads[rng() % std::size(payloads)], rng);
        const std::string secret = "s3cret-" + std::to_string(rng());
        const std::string header = sign_body(secret, body);
        CHECK(signature_matches(header, secret, body));
        std::string altered = body;
        altered[rng() % altered.size()] ^= static_cast<char>(1 + rng() % 255);
        CHECK_FALSE(signature_matches(header, secret, altered));
        // A header matches when it is the signature, give or take surrounding blanks and the case of letters.
        std::string forged = edited(header, rng), same = forged;
        same.erase(0, same.find_first_not_of(" \t"));
        same.erase(same.find_last_not_of(" \t") + 1);
        std::transform(same.begin(), same.end(), same.begin(), [](unsigned char c) { return std::tolower(c); });
        CHECK(signature_matches(forged, secret, body) == (same == header));
        CHECK_FALSE(signature_matches(header, secret + "x", body));
    }
}
