// text.hpp — the text of a message: split to the configured length, cut at a code point, its #hashtags.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relais::xmpp {

// Splits text into pieces of at most `max` bytes, never inside a UTF-8 code point, after a line break or a space
// when one is in the second half of the piece. Joined back, the pieces are the text.
std::vector<std::string> split_text(const std::string &text, size_t max);

// Cuts text to at most `max` bytes at a code-point boundary.
std::string cut_utf8(const std::string &text, size_t max);

// The #hashtags of a text, lowercased (ASCII), without '#', in order, each once. A tag is '#' not glued to a
// preceding letter or digit, then letters (any non-ASCII byte counts as one), digits, '_' or '-'.
std::vector<std::string> hashtags(std::string_view text);

} // namespace relais::xmpp
