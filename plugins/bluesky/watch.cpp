#include "watch.hpp"

#include <algorithm>
#include <cctype>

namespace bluesky {

std::string lower_ascii(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

namespace {

bool mentions_handle(const std::string &lower_text, const std::string &handle) {
    std::string needle = "@" + handle;
    for (size_t at = lower_text.find(needle); at != std::string::npos; at = lower_text.find(needle, at + 1)) {
        size_t end = at + needle.size();
        // "@acme.test" must not match "@acme.testing": the handle ends at a character a handle cannot hold.
        if (end == lower_text.size()) return true;
        unsigned char next = static_cast<unsigned char>(lower_text[end]);
        bool continues = std::isalnum(next) || next == '-' ||
                         (next == '.' && end + 1 < lower_text.size() &&
                          std::isalnum(static_cast<unsigned char>(lower_text[end + 1])));
        if (!continues) return true;
    }
    return false;
}

} // namespace

std::optional<std::string> match_post(const WatchRules &rules, const Post &post) {
    if (rules.ignore_dids.count(post.author_did)) return std::nullopt;
    for (const std::string &did : post.mention_dids)
        if (rules.mention_dids.count(did)) return "mention";
    std::string text = lower_ascii(post.text);
    for (const std::string &handle : rules.mention_handles)
        if (mentions_handle(text, handle)) return "mention";
    if (rules.follow_dids.count(post.author_did)) return "follow";
    for (const std::string &keyword : rules.keywords)
        if (!keyword.empty() && text.find(keyword) != std::string::npos) return "keyword";
    return std::nullopt;
}

} // namespace bluesky
