// html_text.hpp — a status's HTML content (as Mastodon and the servers it federates with write it) as plain text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relais::mastodon {

struct PlainText {
    std::string text;               // paragraphs separated by a blank line, <br> as a line break
    std::vector<std::string> links; // the hrefs of ordinary links, in order (not mentions nor hashtags)
};

// Tags are dropped; mentions and hashtags keep their visible text (@alice, #veille); an ordinary link is written as
// its full address (Mastodon shows a shortened one), or "label (address)" when its label is other words.
PlainText html_to_text(std::string_view html);

// Decodes HTML character references: the common named ones, decimal and hexadecimal. Unknown names stay as is.
std::string decode_entities(std::string_view s);

} // namespace relais::mastodon
