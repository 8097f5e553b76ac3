// item_identity.hpp — what makes two feed items the same article, whichever feed they came from.
#pragma once

#include "feed_parser.hpp"

#include <string>

namespace relais::rss {

// A link as an article's identity: scheme and "www." dropped, host lower-cased, default port, fragment,
// tracking parameters (utm_*, fbclid, gclid…) and a trailing slash removed; a Google redirect
// (google.com/url?url=…, as Google Alerts links are) replaced by its target. Unparsable links are kept trimmed.
std::string normalise_link(const std::string &link);

// The key under which an item is recognised across feeds: "link:" + its normalised link (a guid that is a
// permalink is its link already), else "title:" + its title lower-cased, else empty (nothing to go by).
std::string item_fingerprint(const FeedItem &item);

} // namespace relais::rss
