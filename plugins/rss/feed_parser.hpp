// feed_parser.hpp — a feed document (RSS 0.9x/1.0/2.0, Atom 1.0, JSON Feed 1.x) → its items. Pure: no I/O.
#pragma once

#include <relais/message.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace relais::rss {

constexpr size_t max_summary_chars = 1000;
constexpr size_t max_title_chars = 300;

struct FeedItem {
    std::string id;        // guid / id; else the link; else "hash:" + a hash of title and date
    std::string title;     // plain text
    std::string link;      // absolute when the feed gave enough to resolve it
    std::string summary;   // plain text, at most max_summary_chars characters
    std::string author;    // display name
    std::string author_id; // e-mail address or profile URL, when the feed gives one
    std::string language;  // BCP 47, from the item or else the feed
    int64_t published_ms = 0; // 0 when missing or unreadable
    int64_t updated_ms = 0;
    std::vector<std::string> tags; // lower-cased, without '#', no duplicates
    std::vector<Attachment> attachments;

    int64_t date_ms() const { return published_ms ? published_ms : updated_ms; }
};

struct Feed {
    std::string format; // "rss", "rdf", "atom" or "json"
    std::string title;
    std::string link;   // the site's home page
    std::string language;
    std::vector<FeedItem> items; // in document order; an id seen twice keeps its first item
};

// Why a document is not a feed: "malformed XML at line 3, column 14: …", "the document is an HTML page…".
class FeedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses a feed's bytes as fetched. feed_url is the base of relative links (with xml:base on top of it);
// http_charset is the Content-Type's charset, used when the document declares no encoding. Throws FeedError.
Feed parse_feed(std::string_view body, const std::string &feed_url, const std::string &http_charset = {});

// The items oldest first: by date when every item has one, else the reverse of document order (feeds list
// newest first). Ties keep that reversed order.
std::vector<FeedItem> oldest_first(std::vector<FeedItem> items);

} // namespace relais::rss
