// Feeds are untrusted input: mangled copies of the sample feeds must parse or throw FeedError, never crash.
// A deterministic mutation run (fixed seed) so a failure reproduces; run it under ASan/UBSan to get the most of it.
#include "feed_parser.hpp"
#include "html_text.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <random>
#include <string>

using namespace relais::rss;

namespace {

std::string data(const std::string &name) {
    std::ifstream in(std::string(RSS_TEST_DATA) + "/" + name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string mutate(std::string s, std::mt19937 &rng) {
    static const std::string tokens[] = {"<",     ">",        "&",        "&#x",       "]]>",  "<![CDATA[", "\"",
                                         "</",    "&amp;",    "\xC3",     "\xFF\xFE",  "\0",   "xml:base=\"", "<item>",
                                         "<entry>", "{",      "}",        "[",         "\"items\":", "&#99999999;"};
    std::uniform_int_distribution<int> kind(0, 4);
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !s.empty(); ++e) {
        size_t at = rng() % s.size();
        switch (kind(rng)) {
        case 0: s[at] = static_cast<char>(rng()); break;                                  // flip a byte
        case 1: s.erase(at, rng() % 16); break;                                           // delete a run
        case 2: s.insert(at, tokens[rng() % std::size(tokens)]); break;                   // insert syntax
        case 3: s.resize(at); break;                                                      // truncate
        case 4: s.insert(at, s.substr(rng() % s.size(), rng() % 64)); break;              // duplicate a run
        }
    }
    return s;
}

} // namespace

TEST_CASE("Mangled feeds parse or fail cleanly", "[parser][fuzz]") {
    std::mt19937 rng(20240306);
    size_t parsed = 0, refused = 0;
    for (const char *name : {"rss_cdata.xml", "atom_base.xml", "feed.json", "rdf.xml", "latin1.xml",
                             "atom_utf16.xml", "no_dates.xml"}) {
        const std::string original = data(name);
        REQUIRE(!original.empty());
        for (int i = 0; i < 1500; ++i) {
            std::string body = mutate(original, rng);
            try {
                Feed feed = parse_feed(body, "https://fuzz.example/feed");
                for (const auto &item : feed.items) {
                    CHECK(!item.id.empty());
                    CHECK(item.summary.size() <= max_summary_chars * 4 + 3);
                }
                ++parsed;
            } catch (const FeedError &) {
                ++refused;
            }
        }
    }
    CHECK(parsed > 0);
    CHECK(refused > 0);
}

TEST_CASE("Mangled HTML turns into text without crashing", "[text][fuzz]") {
    std::mt19937 rng(7);
    const std::string html = "<p>Caf&eacute; <a href=\"x>y\">link</a><script>s<p></script>&#x1F600;<!-- c --><b>x</b>"
                             "<![CDATA[raw]]> &lt;ok&gt; <style>p{}</style>\xC3\xA9 end</p>";
    for (int i = 0; i < 5000; ++i) {
        std::string s = mutate(html, rng);
        for (Markup m : {Markup::html, Markup::html_known, Markup::text}) {
            std::string text = truncate_text(html_to_text(s, m), 40);
            CHECK(text.find("  ") == std::string::npos);
        }
    }
}
