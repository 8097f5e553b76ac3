// The user's search words → an FTS5 expression. Checked against a real FTS5 table: no input may be a syntax error.
#include "query.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cctype>
#include <random>
#include <string>

using relais::archive_sqlite::to_fts_query;

namespace {

// Good enough for these tests: ASCII letters and digits, or any non-ASCII byte, make a token.
bool simple_tokens(std::string_view s) {
    for (unsigned char c : s)
        if (std::isalnum(c) || c >= 0x80) return true;
    return false;
}

std::string fts(std::string_view q) {
    std::string error;
    auto out = to_fts_query(q, simple_tokens, error);
    INFO("query: " << q << " error: " << error);
    REQUIRE(out);
    return *out;
}

std::string fails(std::string_view q) {
    std::string error;
    auto out = to_fts_query(q, simple_tokens, error);
    INFO("query: " << q);
    REQUIRE_FALSE(out);
    REQUIRE_FALSE(error.empty());
    return error;
}

} // namespace

TEST_CASE("plain words are quoted terms that must all match", "[query]") {
    CHECK(fts("veille") == R"(("veille"))");
    CHECK(fts("  veille   concurrent ") == R"(("veille") AND ("concurrent"))");
}

TEST_CASE("FTS5 operators and punctuation are only words", "[query]") {
    CHECK(fts("AND OR") == R"(("AND") AND ("OR"))");
    CHECK(fts("NEAR(a b)") == R"x(("NEAR(a") AND ("b)"))x");
    CHECK(fts("col:umn") == R"(("col:umn"))"); // not a known field
    CHECK(fts("{text}:x") == R"(("{text}:x"))");
    CHECK(fts(std::string("a\0b\x1b", 4)) == R"(("a") AND ("b"))"); // control characters separate words
}

TEST_CASE("quoted phrases, including unclosed ones and quotes inside words", "[query]") {
    CHECK(fts(R"("appel d'offres" rivalcorp)") == R"(("appel d'offres") AND ("rivalcorp"))");
    CHECK(fts(R"("unclosed phrase)") == R"(("unclosed phrase"))");
    CHECK(fts(R"(ab"cd)") == R"(("ab") AND ("cd"))");
}

TEST_CASE("a trailing star is a prefix search", "[query]") {
    CHECK(fts("veil*") == R"(("veil" *))");
    CHECK(fts("veil***") == R"(("veil" *))");
    CHECK(fts(R"("appel d"*)") == R"(("appel d" *))");
}

TEST_CASE("#tag and field prefixes name a column", "[query]") {
    CHECK(fts("#veille") == R"(({tag_words} : "veille"))");
    CHECK(fts("tag:veil*") == R"(({tag_words} : "veil" *))");
    CHECK(fts(R"(author:"Jean Dupont")") == R"(({author} : "Jean Dupont"))");
    CHECK(fts("text:offre") == R"(({text} : "offre"))");
}

TEST_CASE("a -word excludes, but only alongside a word to find", "[query]") {
    CHECK(fts("veille -spam -#bot") == R"((("veille")) NOT ("spam") NOT ({tag_words} : "bot"))");
    CHECK(fts("well-known") == R"(("well-known"))");
    CHECK(fails("-spam").find("at least one word") != std::string::npos);
}

TEST_CASE("a query with nothing to search for is a clear error", "[query]") {
    for (const char *q : {"", "   ", "*", "\"\"", "#", "author:", "-", "--", "!!!"})
        CHECK(fails(q).find("nothing to search for") != std::string::npos);
}

TEST_CASE("over-long queries and too many words are refused", "[query]") {
    fails(std::string(2000, 'a'));
    std::string many;
    for (int i = 0; i < 40; ++i) many += "w" + std::to_string(i) + " ";
    CHECK(fails(many).find("too many words") != std::string::npos);
}

TEST_CASE("random input never makes an FTS5 syntax error", "[query][fuzz]") {
    sqlite3 *db = nullptr;
    REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE f USING fts5(text, author, tag_words);"
                         "INSERT INTO f VALUES ('la veille concurrentielle', 'Alice', '#veille');",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_stmt *stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM f WHERE f MATCH ?1", -1, &stmt, nullptr) == SQLITE_OK);

    const std::vector<std::string> pieces = {"veille", "AND", "OR", "NOT", "NEAR", "(", ")", "\"", "*", "-", "#",
                                             ":", "author:", "tag:", "text:", "{", "}", "^", "+", " ", "  ", "é",
                                             "\xF0\x9F\x99\x82", "\xFF", ",", "'", "a", "0", "\t",
                                             std::string(1, '\0'), "\x1b"};
    std::mt19937 rng(12345);
    int checked = 0;
    for (int round = 0; round < 5000; ++round) {
        std::string q;
        int n = static_cast<int>(rng() % 8) + 1;
        for (int i = 0; i < n; ++i) q += pieces[rng() % pieces.size()];
        std::string error;
        auto expr = to_fts_query(q, simple_tokens, error);
        if (!expr) continue;
        sqlite3_bind_text(stmt, 1, expr->c_str(), static_cast<int>(expr->size()), SQLITE_TRANSIENT);
        int rc = sqlite3_step(stmt);
        INFO("query: " << q << " → " << *expr << " : " << sqlite3_errmsg(db));
        REQUIRE(rc == SQLITE_ROW);
        sqlite3_reset(stmt);
        ++checked;
    }
    CHECK(checked > 1000);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}
