// Parsing and writing IRC lines: tags, prefixes, trailing parameters, CTCP, server-time, bad input.
#include "line.hpp"

#include <catch2/catch.hpp>

using namespace relais::irc;

TEST_CASE("a PRIVMSG with IRCv3 tags and a prefix parses into its parts") {
    auto line = parse_line("@msgid=abc123;time=2026-11-26T09:17:39.123Z;+draft/x=a\\sb\\:c :alice!al@host.example "
                           "PRIVMSG #team :hello there :)");
    REQUIRE(line);
    CHECK(line->tag("msgid") == "abc123");
    CHECK(line->tag("+draft/x") == "a b;c");
    CHECK(line->prefix == "alice!al@host.example");
    CHECK(prefix_nick(line->prefix) == "alice");
    CHECK(line->command == "PRIVMSG");
    REQUIRE(line->params.size() == 2);
    CHECK(line->params[0] == "#team");
    CHECK(line->params[1] == "hello there :)");
    CHECK(parse_server_time(line->tag("time")) == 1795684659123LL);
}

TEST_CASE("numerics, middle parameters and lines without a prefix") {
    auto ping = parse_line("PING :irc.test.local");
    REQUIRE(ping);
    CHECK(ping->prefix.empty());
    CHECK(ping->param(0) == "irc.test.local");
    auto n = parse_line(":irc.test.local 433 * relais :Nickname already in use");
    REQUIRE(n);
    CHECK(n->command == "433");
    CHECK(n->param(1) == "relais");
    CHECK(n->params.back() == "Nickname already in use");
    auto cap = parse_line(":srv CAP * LS * :server-time sasl=PLAIN");
    REQUIRE(cap);
    CHECK(cap->params.size() == 4);
    CHECK(cap->param(9).empty());
    auto lower = parse_line(":srv privmsg #a x");
    REQUIRE(lower);
    CHECK(lower->command == "PRIVMSG");
    CHECK(lower->param(1) == "x");
}

TEST_CASE("malformed lines are refused, not guessed at") {
    CHECK_FALSE(parse_line(""));
    CHECK_FALSE(parse_line("   "));
    CHECK_FALSE(parse_line(":prefix-only"));
    CHECK_FALSE(parse_line("@tags-only"));
    CHECK_FALSE(parse_line("@ :srv PRIVMSG #a :x"));
    CHECK_FALSE(parse_line(": PRIVMSG #a :x"));
    CHECK_FALSE(parse_line(":srv PRIV/MSG #a :x"));
    CHECK_FALSE(parse_line(std::string("PRIVMSG #a :x\0y", 15)));
    CHECK_FALSE(parse_line("@=v :srv PRIVMSG #a :x"));
}

TEST_CASE("format_line writes a trailing parameter only when it must") {
    CHECK(format_line("NICK", {"relais"}) == "NICK relais");
    CHECK(format_line("PRIVMSG", {"#a", "two words"}) == "PRIVMSG #a :two words");
    CHECK(format_line("PRIVMSG", {"#a", ":)"}) == "PRIVMSG #a ::)");
    CHECK(format_line("PRIVMSG", {"#a", ""}) == "PRIVMSG #a :");
    CHECK(format_line("USER", {"relais", "0", "*", "Relais bridge"}) == "USER relais 0 * :Relais bridge");
    // What is written parses back to the same parameters.
    auto back = parse_line(format_line("PRIVMSG", {"#a", ":) x"}));
    REQUIRE(back);
    CHECK(back->param(1) == ":) x");
}

TEST_CASE("CTCP ACTION is recognised, other CTCP is told apart") {
    CHECK(ctcp_action("\x01" "ACTION waves\x01") == std::optional<std::string_view>("waves"));
    CHECK(ctcp_action("\x01" "ACTION waves") == std::optional<std::string_view>("waves"));
    CHECK_FALSE(ctcp_action("\x01" "ACTIONS\x01"));
    CHECK_FALSE(ctcp_action("ACTION waves"));
    CHECK(is_ctcp("\x01VERSION\x01"));
    CHECK_FALSE(is_ctcp("hello"));
}

TEST_CASE("server-time, channel names, case mapping and UTF-8 repair") {
    CHECK(parse_server_time("1970-01-01T00:00:01Z") == 1000);
    CHECK(parse_server_time("1970-01-01T00:00:01.5Z") == 1500);
    CHECK(parse_server_time("yesterday") == 0);
    CHECK(parse_server_time("1970-13-01T00:00:01Z") == 0);
    CHECK(is_channel("#a"));
    CHECK(is_channel("&local"));
    CHECK_FALSE(is_channel("alice"));
    CHECK(irc_lower("#Team[1]") == "#team{1}");
    CHECK(to_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(to_utf8("caf\xe9") == "caf\xc3\xa9"); // Latin-1 é
    CHECK(valid_utf8(to_utf8("\xff\xfe")));
}
