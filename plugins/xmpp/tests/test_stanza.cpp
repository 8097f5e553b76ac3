// Reading message and presence stanzas as a server sends them, and building the ones the connector sends.
#include "stanza.hpp"
#include "stanza_fixture.hpp"

#include <catch2/catch.hpp>

using namespace relais::xmpp;
using relais::xmpp::testing::Strophe;

TEST_CASE("a room message: nick, real JID, stanza-id set by the room, origin-id, reply") {
    Strophe s;
    auto st = s.parse(
        "<message xmlns='jabber:client' from='team@conference.localhost/alice' type='groupchat' id='m1'>"
        "<body>hello #veille</body>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='someone@else' id='forged'/>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='team@conference.localhost' id='sid-1'/>"
        "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
        "<reply xmlns='urn:xmpp:reply:0' id='sid-0' to='team@conference.localhost/bob'/>"
        "<x xmlns='http://jabber.org/protocol/muc#user'><item jid='alice@localhost/phone'/></x></message>");
    REQUIRE(st);
    MessageFields f = read_message(st.get(), "bot@localhost");
    CHECK(f.problem.empty());
    CHECK(f.type == "groupchat");
    CHECK(f.from_bare == "team@conference.localhost");
    CHECK(f.from_resource == "alice");
    CHECK(f.body == "hello #veille");
    CHECK(f.stanza_id == "sid-1"); // the forged one is ignored
    CHECK(f.origin_id == "o1");
    CHECK(f.reply_id == "sid-0");
    CHECK(f.real_jid == "alice@localhost/phone");
    CHECK_FALSE(f.delayed);
}

TEST_CASE("history, subject, corrections and errors are recognised") {
    Strophe s;
    auto history = s.parse("<message from='r@c/a' type='groupchat'><body>old</body>"
                           "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>");
    CHECK(read_message(history.get(), "b@l").delayed);
    auto subject = s.parse("<message from='r@c' type='groupchat'><subject/></message>");
    auto sf = read_message(subject.get(), "b@l");
    CHECK(sf.has_subject);
    CHECK_FALSE(sf.has_body);
    auto edit = s.parse("<message from='r@c/a' type='groupchat'><body>fixed</body>"
                        "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>");
    CHECK(read_message(edit.get(), "b@l").replace_id == "m1");
    auto error = s.parse("<message from='r@c' type='error' id='x'><error type='cancel'>"
                         "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                         "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>moderated</text></error></message>");
    CHECK(read_message(error.get(), "b@l").error == "forbidden (moderated)");
}

TEST_CASE("malformed messages say what is wrong") {
    Strophe s;
    CHECK(read_message(s.parse("<message type='groupchat'><body>x</body></message>").get(), "b@l").problem ==
          "no sender (from)");
    CHECK(read_message(s.parse("<message from='r@c/a'><body>x</body><reply xmlns='urn:xmpp:reply:0'/></message>")
                           .get(),
                       "b@l")
              .problem.find("without an id") != std::string::npos);
}

TEST_CASE("presence: self-presence codes and a join refused for a nick conflict") {
    Strophe s;
    auto self = s.parse("<presence from='r@c/bot'><x xmlns='http://jabber.org/protocol/muc#user'>"
                        "<item affiliation='none' role='participant'/><status code='110'/><status code='x'/>"
                        "<status code='201'/></x></presence>");
    auto p = read_presence(self.get());
    CHECK(p.status_codes == std::vector<int>{110, 201});
    auto conflict = s.parse("<presence from='r@c/bot' type='error'><error type='cancel'>"
                            "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    CHECK(read_presence(conflict.get()).error_condition == "conflict");
}

TEST_CASE("outgoing messages carry origin-id, reply and correction, and a join asks for no history") {
    Strophe s;
    Outgoing out{"r@c", "groupchat", "id-1", "a < b & c", "sid-9", "", "id-0"};
    xmpp_stanza_t *m = build_message(s.ctx(), out);
    std::string xml = s.text(m);
    xmpp_stanza_release(m);
    INFO(xml);
    CHECK(xml.find("a &lt; b &amp; c") != std::string::npos);
    CHECK(xml.find("<origin-id id=\"id-1\" xmlns=\"urn:xmpp:sid:0\"/>") != std::string::npos);
    CHECK(xml.find("<reply id=\"sid-9\" xmlns=\"urn:xmpp:reply:0\"/>") != std::string::npos);
    CHECK(xml.find("<replace id=\"id-0\" xmlns=\"urn:xmpp:message-correct:0\"/>") != std::string::npos);
    // What we build reads back the same.
    auto back = s.parse(xml);
    auto f = read_message(back.get(), "b@l");
    CHECK(f.body == "a < b & c");
    CHECK(f.origin_id == "id-1");

    xmpp_stanza_t *join = build_join(s.ctx(), "r@c", "bot");
    std::string jx = s.text(join);
    xmpp_stanza_release(join);
    CHECK(jx.find("to=\"r@c/bot\"") != std::string::npos);
    CHECK(jx.find("maxstanzas=\"0\"") != std::string::npos);
}
