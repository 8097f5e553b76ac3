// html_text.hpp — the text of a feed field as one clean line: tags stripped, entities decoded, whitespace collapsed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relais::rss {

enum class Markup {
    html,       // strip every tag (descriptions, content)
    html_known, // strip only known HTML tags, so "Use <vector>" in a title survives
    text,       // no markup: only whitespace is collapsed
};

// Decodes HTML character references: named (the HTML 4 set), decimal and hexadecimal. Unknown names stay as is.
std::string decode_entities(std::string_view s);

// Removes tags (and the content of script, style and the like), decodes entities, collapses whitespace.
std::string html_to_text(std::string_view s, Markup markup = Markup::html);

// Runs of whitespace (including no-break spaces) become one space; leading and trailing whitespace go.
std::string collapse_whitespace(std::string_view s);

// At most max_chars code points: cuts at a word boundary when one is near and appends "…".
std::string truncate_text(std::string_view s, size_t max_chars);

// Lower-cases ASCII and the common Latin, Greek and Cyrillic capitals.
std::string to_lower(std::string_view s);

// Appends the UTF-8 form of a code point (invalid ones become U+FFFD).
void append_utf8(std::string &out, uint32_t cp);

} // namespace relais::rss
