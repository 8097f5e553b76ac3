// query.hpp — turns the words a user types into an FTS5 MATCH expression that can never be an FTS5 syntax error.
//
// Syntax (every part is optional, parts are ANDed):
//   word          a word, found anywhere in the text, author or tags (case and accents ignored)
//   "a phrase"    these words next to each other
//   veil*         words starting with "veil" (also "a phr"* for a phrase ending in a prefix)
//   #veille       a tag (tag:veille is the same)
//   author:alice  in the author's name (text:word for the text only); author:"Jean Dupont" for a phrase
//   -word         excludes messages with that word (needs at least one word that is not excluded)
// Anything else, including FTS5 operators such as AND, OR, NEAR( or a stray ", is taken as plain words.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace relais::archive_sqlite {

// Whether a piece of text yields at least one token for the index's tokenizer (terms without any, such as "🙂"
// or "--", are dropped rather than searched as empty phrases that would match nothing).
using HasTokens = std::function<bool(std::string_view)>;

inline constexpr size_t max_query_bytes = 1000;
inline constexpr size_t max_query_terms = 32;

// The FTS5 expression for `query`, or nullopt with `error` set to a message for the user.
std::optional<std::string> to_fts_query(std::string_view query, const HasTokens &has_tokens, std::string &error);

} // namespace relais::archive_sqlite
