// What the rule-engine benchmark routes: a deployment's plugin instances, N generated routes mixing keywords,
// regular expressions and tags, and a corpus of chat-like messages. Everything is derived from one seed, and route
// i is the same in every set, so the set of 100 routes is the first 100 of the set of 1,000.
#pragma once

#include "corpus.hpp"
#include "route/rules.hpp"

#include <relais/message.hpp>

#include <string>
#include <vector>

namespace relais::bench {

class Workload {
public:
    explicit Workload(uint64_t seed);

    // Sources (irc, xmpp, matrix, mastodon, rss, api) and sinks (team, outside, console, webhook, archive).
    std::vector<InstanceFacts> instances() const;
    // The `routes:` items for `count` routes, as YAML text (each item indented by two spaces).
    std::string routes_yaml(size_t count) const;
    // `count` messages as a source plugin would emit them, after the host's normalisation.
    std::vector<Message> messages(size_t count) const;

private:
    std::string route_yaml(size_t i) const;
    std::string keyword(Rng &rng) const;
    std::string tag(Rng &rng) const;
    std::string text(Rng &rng) const;

    uint64_t seed_;
    Vocabulary words_;
    std::vector<std::string> tags_;    // by popularity
    std::vector<std::string> authors_; // nicknames
};

// One regular expression that looks for everything the routes look for in the text: every keyword (case
// ignored, on word boundaries) and every regex. Scanning a message once with it is the baseline.
std::string baseline_pattern(const RouteTable &table);

} // namespace relais::bench
