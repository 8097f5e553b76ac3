// The Matterbridge message format and its mapping to relais::Message, without a network.
#include "convert.hpp"
#include "mb_message.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace relais::api;
namespace json = boost::json;

TEST_CASE("a posted message parses with Go's rules", "[api][format]") {
    std::string error;
    auto m = parse_mb_message(R"({"Text":"hi","USERNAME":"alice","userid":"u1","avatar":null,"gateway":"g1",
        "parent_id":"p1","timestamp":"2024-05-01T12:00:00.250+02:00","id":"x","unknown":[1,2],
        "Extra":{"file":[]}})",
                              error);
    REQUIRE(m);
    CHECK(m->text == "hi");
    CHECK(m->username == "alice");
    CHECK(m->userid == "u1");
    CHECK(m->avatar.empty());
    CHECK(m->gateway == "g1");
    CHECK(m->parent_id == "p1");
    CHECK(m->id == "x");
    CHECK(m->timestamp_ms == 1714557600250); // 10:00:00.250 UTC
    REQUIRE(m->extra);
    CHECK(m->extra->contains("file"));
}

TEST_CASE("malformed posts are refused with a reason", "[api][format]") {
    std::string error;
    CHECK_FALSE(parse_mb_message("{\"text\": \"unterminated", error));
    CHECK(error.find("not valid JSON") != std::string::npos);
    CHECK_FALSE(parse_mb_message("[1,2]", error));
    CHECK(error == "expected a JSON object, got an array");
    CHECK_FALSE(parse_mb_message(R"({"text": 42})", error));
    CHECK(error == "field \"text\" must be a string, got a number");
    CHECK_FALSE(parse_mb_message(R"({"text": "a", "timestamp": "yesterday"})", error));
    CHECK(error.find("timestamp") != std::string::npos);
    CHECK_FALSE(parse_mb_message(R"({"text": "a", "Extra": [1]})", error));
    CHECK(error.find("Extra") != std::string::npos);
    CHECK_FALSE(parse_mb_message("{\"text\": \"caf\xC3\"}", error));
    CHECK(error == "the body is not valid UTF-8");
}

TEST_CASE("UTF-8 validation refuses overlong forms and surrogates", "[api][format]") {
    CHECK(valid_utf8("plain ascii"));
    CHECK(valid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
    CHECK_FALSE(valid_utf8("\xC0\xAF"));         // overlong '/'
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));     // U+D800
    CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
    CHECK_FALSE(valid_utf8("\xE2\x82"));         // truncated
}

TEST_CASE("RFC 3339 timestamps round-trip", "[api][format]") {
    CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_rfc3339(1714557600250) == "2024-05-01T10:00:00.250Z");
    CHECK(parse_rfc3339("2024-05-01T10:00:00.250Z") == 1714557600250);
    CHECK(parse_rfc3339("2019-01-09T22:37:18.647108348+01:00") == 1547069838647);
    CHECK(parse_rfc3339("2024-05-01T10:00:00-00:30") == 1714557600000 + 30 * 60 * 1000);
    CHECK_FALSE(parse_rfc3339("2024-02-30T10:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2024-05-01 10:00:00"));
    CHECK_FALSE(parse_rfc3339("2024-05-01T10:00:00"));
    std::string error;
    auto zero = parse_mb_message(R"({"text":"a","timestamp":"0001-01-01T00:00:00Z"})", error);
    REQUIRE(zero);
    CHECK(zero->timestamp_ms == 0); // Go's zero time: not set
}

TEST_CASE("the JSON written has Matterbridge's fields in its order", "[api][format]") {
    MbMessage m;
    m.text = "hello";
    m.timestamp_ms = 1714557600250;
    std::string text = mb_to_json_text(m);
    CHECK(text == R"({"text":"hello","channel":"","username":"","userid":"","avatar":"","account":"","event":"",)"
                  R"("protocol":"","gateway":"","parent_id":"","timestamp":"2024-05-01T10:00:00.250Z","id":"",)"
                  R"("Extra":null})");
}

namespace {
InboundDefaults defaults() { return {"api.myapi", "main", "api-generated", 1000}; }

std::optional<Inbound> inbound(const std::string &body, std::string &error) {
    auto m = parse_mb_message(body, error);
    REQUIRE(m);
    return to_relais(*m, defaults(), error);
}
} // namespace

TEST_CASE("a posted message becomes a relais message", "[api][convert]") {
    std::string error;
    auto in = inbound(R"({"text":"hi","username":"alice","userid":"u1","avatar":"https://a/x.png",
        "gateway":"gw","event":"user_action","Extra":{"k":["v"]}})",
                      error);
    REQUIRE(in);
    REQUIRE(in->message);
    const relais::Message &m = *in->message;
    CHECK(m.text == "hi");
    CHECK(m.author == "alice");
    CHECK(m.author_id == "u1");
    CHECK(m.channel == "api");
    CHECK(m.native_id == "api-generated");
    CHECK(m.kind == relais::Kind::post);
    CHECK(m.created_at_ms == 1000);
    CHECK(m.meta("avatar") == "https://a/x.png");
    CHECK(m.meta("account") == "api.myapi");
    CHECK(m.meta("protocol") == "api");
    CHECK(m.meta("gateway") == "gw");
    CHECK(m.meta("event") == "user_action");
    CHECK(json::parse(m.meta("extra")) == json::parse(R"({"k":["v"]})"));
    // The echo is what Matterbridge answers: the defaults filled in.
    CHECK(in->echo.account == "api.myapi");
    CHECK(in->echo.protocol == "api");
    CHECK(in->echo.channel == "api");
    CHECK(in->echo.id == "api-generated");
    CHECK(in->echo.timestamp_ms == 1000);
}

TEST_CASE("replies, deletions, files and empty events map to kinds", "[api][convert]") {
    std::string error;
    auto reply = inbound(R"({"text":"yes","parent_id":"p1","id":"n1","channel":"general"})", error);
    REQUIRE(reply);
    CHECK(reply->message->kind == relais::Kind::reply);
    CHECK(reply->message->reply_to == "p1");
    CHECK(reply->message->native_id == "n1");
    CHECK(reply->message->channel == "general");

    auto orphan = inbound(R"({"text":"yes","parent_id":"msg-parent-not-found"})", error);
    REQUIRE(orphan);
    CHECK(orphan->message->kind == relais::Kind::post);
    CHECK(orphan->message->reply_to.empty());

    auto del = inbound(R"({"event":"msg_delete","id":"n1"})", error);
    REQUIRE(del);
    CHECK(del->message->kind == relais::Kind::remove);
    CHECK(del->message->reply_to == "n1");
    CHECK(del->message->native_id == "api-generated");
    CHECK(del->echo.id == "n1");

    CHECK_FALSE(inbound(R"({"event":"msg_delete"})", error));
    CHECK(error.find("\"id\"") != std::string::npos);

    auto file = inbound(R"({"Extra":{"file":[{"Name":"a.png","URL":"https://f/a.png","Size":12},{"Name":"b"}]}})",
                        error);
    REQUIRE(file);
    REQUIRE(file->message->attachments.size() == 1);
    CHECK(file->message->attachments[0].url == "https://f/a.png");
    CHECK(file->message->attachments[0].name == "a.png");
    CHECK(file->message->attachments[0].size_bytes == 12);

    auto typing = inbound(R"({"event":"user_typing","username":"bob"})", error);
    REQUIRE(typing);
    CHECK_FALSE(typing->message); // nothing to relay
    auto join = inbound(R"({"event":"join_leave","text":"bob joins"})", error);
    REQUIRE(join);
    REQUIRE(join->message);
    CHECK(join->message->meta("event") == "join_leave");

    CHECK_FALSE(inbound(R"({"username":"bob"})", error));
    CHECK(error.find("\"text\" is empty") != std::string::npos);
}

TEST_CASE("a delivery becomes Matterbridge's JSON", "[api][convert]") {
    relais::Message m;
    m.id = "01HX";
    m.source = "rse";
    m.network = "xmpp";
    m.channel = "veille@conference";
    m.author = "Alice";
    m.author_id = "alice@acme";
    m.text = "raw";
    m.created_at_ms = 1714557600250;
    m.kind = relais::Kind::reply;
    m.metadata = {{"avatar", "https://a/x.png"}, {"event", "push"}};
    m.attachments.push_back({"https://f/a.png", "image/png", "a.png", 12});
    relais::Delivery d;
    d.rendered = "Alice: raw";
    d.reply_to = "01HW";
    MbMessage mb = from_relais(m, d, OutboundSettings{"api.myapi", "main", 5});
    CHECK(mb.text == "Alice: raw");
    CHECK(mb.channel == "veille@conference");
    CHECK(mb.username == "Alice");
    CHECK(mb.userid == "alice@acme");
    CHECK(mb.avatar == "https://a/x.png");
    CHECK(mb.account == "xmpp.rse");
    CHECK(mb.event.empty()); // "push" is not a Matterbridge event
    CHECK(mb.protocol == "xmpp");
    CHECK(mb.gateway == "main");
    CHECK(mb.parent_id == "01HW");
    CHECK(mb.id == "01HX");
    CHECK(mb.timestamp_ms == 1714557600250);
    REQUIRE(mb.extra);
    CHECK((*mb.extra)["file"].as_array()[0].as_object()["URL"] == "https://f/a.png");

    d.channel = "api";
    m.kind = relais::Kind::edit;
    MbMessage edit = from_relais(m, d, OutboundSettings{"api.myapi", "main", 5});
    CHECK(edit.channel == "api");
    CHECK(edit.id == "01HW"); // Matterbridge's edit: the edited message's id again
    CHECK(edit.parent_id.empty());

    m.kind = relais::Kind::remove;
    MbMessage del = from_relais(m, d, OutboundSettings{"api.myapi", "main", 5});
    CHECK(del.event == "msg_delete");
    CHECK(del.id == "01HW");
    CHECK(del.text.empty());

    relais::Message bare;
    bare.text = "x";
    MbMessage b = from_relais(bare, relais::Delivery{}, OutboundSettings{"api.myapi", "main", 5});
    CHECK(b.account == "api.myapi");
    CHECK(b.timestamp_ms == 5);
    CHECK(mb_to_json(b)["Extra"] == json::object{});
}
