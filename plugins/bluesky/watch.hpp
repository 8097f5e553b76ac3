// watch.hpp — decides whether a post from the firehose is one the company wants to see, and why.
#pragma once

#include "frame.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bluesky {

struct WatchRules {
    std::set<std::string> follow_dids;    // authors whose every post is wanted
    std::set<std::string> mention_dids;   // the company's accounts: a mention facet naming one
    std::set<std::string> mention_handles; // lower case: "@handle" in the text
    std::vector<std::string> keywords;    // lower case; matched case-insensitively in the text
    std::set<std::string> ignore_dids;    // never wanted (the account Relais posts as)
};

// "mention", "follow" or "keyword" (in that order of precedence), or nullopt.
std::optional<std::string> match_post(const WatchRules &rules, const Post &post);

// ASCII lower case (handles and keywords are compared this way).
std::string lower_ascii(std::string s);

} // namespace bluesky
