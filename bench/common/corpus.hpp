// The benchmarks' synthetic corpus: a seeded random generator that gives the same numbers on every platform, and
// a vocabulary whose words are drawn with Zipf's law, as words are in real text (rank 1 is "the", rank 10,000 is a
// word met once in a long while).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace relais::bench {

// splitmix64. The standard distributions differ between standard libraries; this does not.
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
    int between(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1))); }
    bool chance(double p) { return uniform() < p; }
    template <class T> const T &pick(const std::vector<T> &items) { return items[below(items.size())]; }

private:
    uint64_t state_;
};

// A seed for item `i` of a stream: items can be made one at a time, in any order, and stay the same.
inline uint64_t seed_for(uint64_t seed, uint64_t i) { return Rng(seed ^ (i * 0x2545f4914f6cdd1dull)).next(); }

class Vocabulary {
public:
    // `size` distinct lower-case words; the first are English function words, the rest pronounceable made-up
    // words, longer as they get rarer, about 2% of them with an accent. P(rank r) ∝ 1 / r^exponent.
    Vocabulary(size_t size, double exponent, uint64_t seed) {
        static const char *common[] = {
            "the", "to", "and", "a", "of", "i", "in", "is", "it", "you", "that", "for", "on", "we", "this", "with",
            "be", "have", "not", "are", "at", "as", "but", "was", "do", "so", "can", "if", "will", "my", "me", "or",
            "from", "they", "just", "all", "about", "there", "what", "your", "one", "out", "by", "up", "an", "get",
            "like", "new", "now", "no", "our", "some", "think", "know", "would", "when", "more", "need", "time",
            "yes", "ok", "here", "good", "see", "still", "how", "then", "should", "also", "today", "work", "did",
            "been", "could", "make", "any", "why", "go", "which", "thanks", "has", "right", "release", "build",
            "issue", "team", "meeting", "please", "who", "done", "back", "after", "fix", "check", "look", "test",
            "before", "update", "change", "week", "server"};
        static const char *onsets[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s",
                                       "t", "v", "w", "z", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr",
                                       "pl", "pr", "sh", "sl", "st", "str", "th", "tr", "qu", "", ""};
        static const char *vowels[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y", "a", "e", "o"};
        static const char *codas[] = {"", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "rt", "st", "ck", "ng", "x"};
        Rng rng(seed);
        std::unordered_set<std::string> seen;
        for (const char *w : common) {
            if (words_.size() == size) break;
            words_.emplace_back(w);
            seen.insert(w);
        }
        while (words_.size() < size) {
            size_t rank = words_.size();
            int syllables = 1 + (rank > 400) + (rank > 4000) + (rng.chance(0.35) ? 1 : 0);
            std::string w;
            for (int s = 0; s < syllables; ++s) {
                w += onsets[rng.below(std::size(onsets))];
                w += vowels[rng.below(std::size(vowels))];
                if (s + 1 == syllables || rng.chance(0.3)) w += codas[rng.below(std::size(codas))];
            }
            if (w.size() < 2) continue;
            if (rng.chance(0.02)) {
                auto e = w.find('e');
                if (e != std::string::npos) w.replace(e, 1, "\xc3\xa9"); // é
            }
            if (seen.insert(w).second) words_.push_back(std::move(w));
        }
        cdf_.resize(size);
        double total = 0;
        for (size_t r = 0; r < size; ++r) cdf_[r] = total += 1.0 / std::pow(static_cast<double>(r + 1), exponent);
        for (auto &c : cdf_) c /= total;
    }

    size_t size() const { return words_.size(); }
    const std::string &word(size_t rank) const { return words_[rank]; }
    double probability(size_t rank) const { return rank == 0 ? cdf_[0] : cdf_[rank] - cdf_[rank - 1]; }
    // A rank drawn with Zipf's law.
    size_t sample(Rng &rng) const {
        auto it = std::upper_bound(cdf_.begin(), cdf_.end(), rng.uniform());
        return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
    }
    const std::string &draw(Rng &rng) const { return words_[sample(rng)]; }

private:
    std::vector<std::string> words_;
    std::vector<double> cdf_;
};

inline std::string capitalised(std::string w) {
    if (!w.empty() && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
    return w;
}

inline std::string upper(std::string w) {
    for (char &c : w)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return w;
}

} // namespace relais::bench
