// Random input for everything that reads what a server sends: no crash, no hang, and the results keep their promises.
#include "entities.hpp"
#include "html_text.hpp"
#include "payloads.hpp"
#include "sse.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace relais::mastodon;

TEST_CASE("fuzz: html_to_text on random markup never crashes and never leaves a tag's '>' behind", "[fuzz]") {
    std::mt19937 rng(20261126);
    const std::string pieces[] = {"<p>",
                                  "</p>",
                                  "<br />",
                                  "<a href=\"https://x.example/a?b=1&amp;c\" class=\"mention\">",
                                  "<a href='h'>",
                                  "</a>",
                                  "<span class=\"invisible\">",
                                  "</span>",
                                  "&amp;",
                                  "&#x1F680;",
                                  "&#99999999;",
                                  "&",
                                  "<",
                                  ">",
                                  "\"",
                                  "'",
                                  "text",
                                  " ",
                                  "\n",
                                  "<script>",
                                  "</script>",
                                  "<!--",
                                  "-->",
                                  "\xC3\xA9",
                                  "\xFF",
                                  "#",
                                  "@"};
    for (int round = 0; round < 20000; ++round) {
        std::string html;
        size_t n = rng() % 40;
        for (size_t i = 0; i < n; ++i)
            html += pieces[rng() % std::size(pieces)];
        PlainText t = html_to_text(html);
        REQUIRE(t.text.size() <= html.size() * 4 + 64);
        if (!t.text.empty()) {
            CHECK(t.text.front() != '\n');
            CHECK(t.text.back() != '\n');
        }
        CHECK(t.text.find("\n\n\n") == std::string::npos);
    }
}

TEST_CASE("fuzz: the SSE parser gives the same events however the bytes are cut", "[fuzz]") {
    std::mt19937 rng(7);
    const std::string pieces[] = {"event: update\n",
                                  "data: {\"id\":\"1\"}\n",
                                  "\n",
                                  "\r\n",
                                  "\r",
                                  ":thump\n",
                                  "data:",
                                  "x",
                                  "id: 3\n",
                                  "retry: 10\n",
                                  "event:\n",
                                  "\xE2\x82\xAC"};
    for (int round = 0; round < 5000; ++round) {
        std::string stream;
        size_t n = rng() % 30;
        for (size_t i = 0; i < n; ++i)
            stream += pieces[rng() % std::size(pieces)];
        SseParser whole;
        auto expected = whole.feed(stream);
        SseParser pieces_parser;
        std::vector<SseEvent> got;
        for (size_t at = 0; at < stream.size();) {
            size_t len = 1 + rng() % 7;
            auto part = pieces_parser.feed(stream.substr(at, len));
            got.insert(got.end(), part.begin(), part.end());
            at += len;
        }
        REQUIRE(got.size() == expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
            CHECK(got[i].event == expected[i].event);
            CHECK(got[i].data == expected[i].data);
        }
    }
}

TEST_CASE("fuzz: mutated statuses and notifications parse or throw PayloadError, nothing else", "[fuzz]") {
    std::mt19937 rng(99);
    const std::string seeds[] = {mastodon_test::payload("timeline_tag_veille.json"),
                                 mastodon_test::payload("notifications_mentions.json"),
                                 mastodon_test::payload("account_statuses_acme.json")};
    MastodonConfig config;
    config.server = "https://mastodon.example";
    config.visibilities = {"public", "unlisted", "private", "direct"};
    int parsed = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string body = seeds[rng() % std::size(seeds)];
        size_t edits = 1 + rng() % 4;
        for (size_t e = 0; e < edits; ++e) {
            size_t at = rng() % body.size();
            switch (rng() % 3) {
            case 0: body[at] = static_cast<char>(rng() % 256); break;
            case 1: body.erase(at, 1 + rng() % 20); break;
            default: body.insert(at, "null"); break;
            }
        }
        try {
            for (const auto &item : parse_array(body)) {
                try {
                    bool is_notification = item.is_object() && item.get_object().contains("type");
                    if (is_notification) {
                        auto n = parse_notification(item);
                        if (n.status) to_message(*n.status, config, "mentions");
                    } else {
                        to_message(parse_status(item), config, "#veille");
                    }
                    ++parsed;
                } catch (const PayloadError &) {}
            }
        } catch (const PayloadError &) {}
    }
    CHECK(parsed > 0); // the mutations leave many items readable
}
