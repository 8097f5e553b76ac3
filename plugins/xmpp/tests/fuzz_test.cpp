// Random input for the code that reads what a server sends: libstrophe parses random XML-ish text into stanzas,
// and read_message / read_presence must never crash on whatever comes out. Text splitting keeps every byte.
#include "stanza.hpp"
#include "stanza_fixture.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace relais::xmpp;
using relais::xmpp::testing::Strophe;

TEST_CASE("fuzz: random stanzas never crash the readers") {
    Strophe s;
    std::mt19937 rng(20261126);
    const std::vector<std::string> parts = {
        "<message", "<presence", " from='r@c/a'", " from='r@c'", " from=''", " type='groupchat'", " type='error'",
        " id='1'", ">", "/>", "</message>", "</presence>", "<body>", "</body>", "<body/>", "text", "é", "&amp;",
        "<subject/>", "<delay xmlns='urn:xmpp:delay'/>", "<stanza-id xmlns='urn:xmpp:sid:0' by='r@c' id='s'/>",
        "<stanza-id xmlns='urn:xmpp:sid:0'/>", "<origin-id xmlns='urn:xmpp:sid:0'/>",
        "<reply xmlns='urn:xmpp:reply:0'", "<replace xmlns='urn:xmpp:message-correct:0' id='", "'/>",
        "<x xmlns='http://jabber.org/protocol/muc#user'>", "</x>", "<item/>", "<item jid='a@b/c'/>",
        "<status code='110'/>", "<status code='-5'/>", "<status code='99999999999999999999'/>", "<status/>",
        "<error>", "</error>", "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>",
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>", "</text>", "<", "'", "\"", "\x80", std::string(1, '\0')};
    int parsed = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string xml;
        size_t n = 1 + rng() % 14;
        for (size_t i = 0; i < n; ++i) xml += parts[rng() % parts.size()];
        if (!xml.empty() && rng() % 4 == 0) xml[rng() % xml.size()] = static_cast<char>(rng() % 256);
        auto st = s.parse(xml);
        if (!st) continue;
        ++parsed;
        MessageFields f = read_message(st.get(), "b@l");
        PresenceFields p = read_presence(st.get());
        CHECK((f.problem.empty() || !f.problem.empty()));
        for (int code : p.status_codes) CHECK((code > 0 && code < 1000));
    }
    CHECK(parsed > 1000); // the generator does reach the readers
}

TEST_CASE("fuzz: split_text keeps every byte and respects the limit") {
    std::mt19937 rng(42);
    for (int round = 0; round < 5000; ++round) {
        std::string text;
        size_t n = rng() % 600;
        for (size_t i = 0; i < n; ++i) text += static_cast<char>(rng() % 256);
        size_t max = 4 + rng() % 300;
        std::string joined;
        for (const auto &p : split_text(text, max)) {
            REQUIRE(p.size() <= max);
            joined += p;
        }
        CHECK(joined == text);
        hashtags(text);
    }
}
