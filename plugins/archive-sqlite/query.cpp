#include "query.hpp"

#include <vector>

namespace relais::archive_sqlite {
namespace {

// Control characters (NUL included, which would end the expression early inside FTS5) count as spaces.
bool is_space(char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; }

// An FTS5 string: the text between double quotes, a double quote written twice. Everything inside is data.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

// The FTS5 column a field prefix ("author:", "tag:") names, or empty.
std::string_view field_column(std::string_view name) {
    if (name == "author") return "author";
    if (name == "tag" || name == "tags") return "tag_words";
    if (name == "text") return "text";
    return {};
}

struct Term {
    std::string column; // empty: every column
    std::string body;   // the words, unquoted
    bool prefix = false;
    bool exclude = false;
};

std::string expression(const Term &t) {
    std::string e;
    if (!t.column.empty()) e = "{" + t.column + "} : ";
    e += quoted(t.body);
    if (t.prefix) e += " *";
    return "(" + e + ")";
}

} // namespace

std::optional<std::string> to_fts_query(std::string_view q, const HasTokens &has_tokens, std::string &error) {
    if (q.size() > max_query_bytes) {
        error = "the search is too long (" + std::to_string(q.size()) + " bytes); keep it under " +
                std::to_string(max_query_bytes) + " bytes";
        return std::nullopt;
    }
    std::vector<Term> terms;
    size_t i = 0, n = q.size();
    while (i < n) {
        while (i < n && is_space(q[i])) ++i;
        if (i >= n) break;
        Term t;
        if (q[i] == '-' && i + 1 < n && !is_space(q[i + 1])) {
            t.exclude = true;
            ++i;
        }
        if (q[i] == '#') {
            t.column = "tag_words";
            ++i;
        } else {
            size_t j = i;
            while (j < n && q[j] >= 'a' && q[j] <= 'z') ++j;
            if (j < n && q[j] == ':' && j > i) {
                std::string_view column = field_column(q.substr(i, j - i));
                if (!column.empty()) {
                    t.column = std::string(column);
                    i = j + 1;
                }
            }
        }
        if (i < n && q[i] == '"') {
            size_t end = q.find('"', i + 1);
            if (end == std::string_view::npos) end = n; // an unclosed quote runs to the end
            t.body = std::string(q.substr(i + 1, end - i - 1));
            for (char &c : t.body)
                if (is_space(c)) c = ' ';
            i = end < n ? end + 1 : n;
            if (i < n && q[i] == '*') {
                t.prefix = true;
                while (i < n && q[i] == '*') ++i;
            }
        } else {
            size_t start = i;
            while (i < n && !is_space(q[i]) && q[i] != '"') ++i;
            std::string_view word = q.substr(start, i - start);
            while (!word.empty() && word.back() == '*') {
                word.remove_suffix(1);
                t.prefix = true;
            }
            t.body = std::string(word);
        }
        if (t.body.empty() || !has_tokens(t.body)) continue; // "*", "--", "🙂": nothing the index knows
        terms.push_back(std::move(t));
        if (terms.size() > max_query_terms) {
            error = "the search has too many words; use at most " + std::to_string(max_query_terms);
            return std::nullopt;
        }
    }

    std::string wanted, excluded;
    for (const Term &t : terms) {
        std::string &into = t.exclude ? excluded : wanted;
        if (t.exclude) into += " NOT " + expression(t);
        else into += (into.empty() ? "" : " AND ") + expression(t);
    }
    if (wanted.empty()) {
        error = terms.empty() ? "nothing to search for: give one or more words, \"a phrase\", a prefix such as "
                                "veil*, a #tag or author:name"
                              : "a search needs at least one word to find; -word only excludes";
        return std::nullopt;
    }
    if (excluded.empty()) return wanted;
    return "(" + wanted + ")" + excluded;
}

} // namespace relais::archive_sqlite
