#include "messages.hpp"

#include <algorithm>
#include <cstdio>

namespace relais::bench {

ArchiveCorpus::ArchiveCorpus(uint64_t seed) : seed_(seed), words_(50'000, 1.0, seed) {
    Rng rng(seed_for(seed, 0xa2c));
    for (int i = 0; i < 2000; ++i)
        authors_.push_back(capitalised(words_.word(200 + rng.below(20000))) + " " +
                           capitalised(words_.word(200 + rng.below(20000))));
    for (int i = 0; i < 200; ++i) tags_.push_back(words_.word(300 + rng.below(10000)));
}

std::string ArchiveCorpus::tag_words(const std::vector<std::string> &tags) {
    std::string out;
    for (const auto &t : tags) out += (out.empty() ? "#" : " #") + t;
    return out;
}

Message ArchiveCorpus::message(uint64_t i, std::vector<uint32_t> *ranks) const {
    Rng rng(seed_for(seed_, i));
    Message m;
    char id[32];
    std::snprintf(id, sizeof id, "bench-%010llu", static_cast<unsigned long long>(i));
    m.id = id;
    m.source = "chat";
    m.network = "xmpp";
    m.channel = "room" + std::to_string(rng.below(20)) + "@conference.example.org";
    m.native_id = "n" + std::to_string(i);
    m.author = authors_[rng.below(authors_.size())];
    m.author_id = m.author + "@example.org";
    m.level = Level::internal;
    m.language = "en";
    m.created_at_ms = 1700000000000 + static_cast<int64_t>(i) * 1000;
    m.received_at_ms = m.created_at_ms + 150;
    m.trace = {"chat"};
    if (ranks) ranks->clear();
    int n = rng.between(20, 60);
    std::string text;
    for (int k = 0; k < n; ++k) {
        size_t rank = words_.sample(rng);
        if (ranks) ranks->push_back(static_cast<uint32_t>(rank));
        std::string w = words_.word(rank);
        if (k == 0 || rng.chance(0.02)) w = capitalised(w);
        if (k) text += rng.chance(0.05) ? ", " : " ";
        text += w;
    }
    text += rng.chance(0.7) ? "." : "?";
    m.text = std::move(text);
    if (rng.chance(0.05))
        for (int t = rng.between(1, 2); t > 0; --t) m.tags.push_back(tags_[rng.below(tags_.size())]);
    if (ranks) {
        std::sort(ranks->begin(), ranks->end());
        ranks->erase(std::unique(ranks->begin(), ranks->end()), ranks->end());
    }
    return m;
}

} // namespace relais::bench
