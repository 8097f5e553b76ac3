// What a posted text says about itself: #hashtags, @mentions and http(s) links; and whether it is valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace relais::webhook {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
// Otherwise `bad_offset` is the byte offset of the first bad sequence.
bool valid_utf8(std::string_view text, size_t &bad_offset);

struct Scanned {
    std::vector<std::string> tags;     // lowercased, without '#', in order of appearance, no duplicates
    std::vector<std::string> mentions; // without '@', as written: "alice", "bob@mastodon.social", "acme.bsky.social"
    std::vector<std::string> links;    // http and https URLs, trailing punctuation removed
};

// Scans valid UTF-8 text. A hashtag is '#' then Unicode letters, digits, '_' and '-' (not all digits), not glued to
// a preceding word character; a mention is '@' then a handle (letters, digits, '_', '.', '-', and an optional
// "@domain"), not preceded by a word character (so e-mail addresses are not mentions). Nothing inside a link counts
// as a tag or a mention.
Scanned scan_text(std::string_view text);

// Lowercases Unicode letters of UTF-8 text (simple case mapping).
std::string lowercase(std::string_view text);

} // namespace relais::webhook
