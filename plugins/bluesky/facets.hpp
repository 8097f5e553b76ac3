// facets.hpp — finds links, @mentions and #tags in post text, with the UTF-8 byte offsets app.bsky.richtext.facet
// wants.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bluesky {

struct FacetSpan {
    enum class Kind { link, mention, tag };
    Kind kind;
    size_t byte_start; // into the UTF-8 text
    size_t byte_end;   // exclusive
    std::string value; // the URL, the handle (without "@", lower case), or the tag (without "#")
};

// In text order. Links are http(s) URLs; mentions are @handle with a valid domain-like handle; tags are #word,
// not all digits, at most 64 characters. Trailing punctuation is left out of each span.
std::vector<FacetSpan> find_facets(std::string_view text);

// A handle such as alice.bsky.social: letters, digits and hyphens in two or more dot-separated labels, the last
// not starting with a digit.
bool is_valid_handle(std::string_view handle);

} // namespace bluesky
