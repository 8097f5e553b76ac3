// The event-stream format, fed in pieces as it arrives from the network.
#include "sse.hpp"

#include <catch2/catch.hpp>

using relais::mastodon::SseEvent;
using relais::mastodon::SseParser;

TEST_CASE("sse: events, comments and multi-line data", "[sse]") {
    SseParser p;
    auto events = p.feed(":thump\n\nevent: update\ndata: {\"id\":\"1\"}\n\nevent: delete\ndata: 42\n\n"
                         "data: line one\ndata: line two\n\n");
    REQUIRE(events.size() == 3);
    CHECK(events[0].event == "update");
    CHECK(events[0].data == "{\"id\":\"1\"}");
    CHECK(events[1].event == "delete");
    CHECK(events[1].data == "42");
    CHECK(events[2].event == "message");
    CHECK(events[2].data == "line one\nline two");
}

TEST_CASE("sse: an event split anywhere, CRLF across chunks, arrives once and whole", "[sse]") {
    const std::string stream = "event: notification\r\ndata: {\"id\":\"7\"}\r\n\r\nevent: update\rdata:x\r\r";
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
        SseParser p;
        auto a = p.feed(stream.substr(0, cut));
        auto b = p.feed(stream.substr(cut));
        a.insert(a.end(), b.begin(), b.end());
        REQUIRE(a.size() == 2);
        CHECK(a[0].event == "notification");
        CHECK(a[0].data == "{\"id\":\"7\"}");
        CHECK(a[1].event == "update");
        CHECK(a[1].data == "x");
    }
}

TEST_CASE("sse: an overlong line is dropped, and what follows still parses", "[sse]") {
    SseParser p(64);
    auto events = p.feed("event: update\ndata: " + std::string(200, 'x') + "\n\nevent: delete\ndata: 9\n\n");
    CHECK(p.dropped_lines() == 1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].event == "delete");
    CHECK(events[0].data == "9");
}
