// split.hpp — cutting a text into pieces that each fit one IRC line, never inside a UTF-8 code point.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relais::irc {

// One piece per line of the text (CR dropped, empty lines skipped, NUL bytes removed); a line longer than
// max_bytes is cut into pieces of at most max_bytes, after the last space of the piece when one lies in its
// second half, otherwise at the last code point boundary. Concatenating the pieces of a line gives the line back.
std::vector<std::string> split_text(std::string_view text, size_t max_bytes);

// The largest n <= max such that s[0, n) ends on a code point boundary (n >= 1 when s is not empty,
// even for bytes that are not UTF-8, so that splitting always moves forward).
size_t utf8_boundary(std::string_view s, size_t max);

} // namespace relais::irc
