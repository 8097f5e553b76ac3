// What makes routing cost little more than one pass over a message's text, however many routes there are.
//
// MatchIndex is built once from the route table (in compile.cpp): every keyword, tag, mention and regex the routes
// test gets a small id, and each route names one condition as its gate, a condition it cannot match without.
// MessageFacts is worked out once per message (in router.cpp): one pass over the text lowers it, splits it into
// words and finds the keywords (a hash look-up a word) and the literal strings the regexes need; the message's
// tags and mentions are looked up by id. A route whose gate stays shut is not evaluated at all; the others are
// evaluated with look-ups instead of searches, and a regex runs only when its literals are in the text.
//
// Everything is exact: the gates only skip routes that could not match, and the facts answer each condition as
// the plain definition would (bench/rules checks this on every message of its corpus).
#pragma once

#include "route/rules.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace relais {

inline constexpr uint32_t no_id = UINT32_MAX;

// A byte of a word, for keywords' word boundaries: ASCII letters (lower-cased first), digits, '_' and every byte
// of a non-ASCII UTF-8 character.
inline bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

// Strings to dense ids (0, 1, 2…), by open addressing. The hash is FNV-1a, so a caller can compute it while it
// reads the bytes.
class StringIds {
public:
    static constexpr uint64_t hash_start = 1469598103934665603ull;
    static uint64_t hash_step(uint64_t h, unsigned char c) { return (h ^ c) * 1099511628211ull; }
    static uint64_t hash(std::string_view s) {
        uint64_t h = hash_start;
        for (unsigned char c : s) h = hash_step(h, c);
        return h;
    }

    uint32_t add(std::string_view s); // the id of s, new or not
    uint32_t find(std::string_view s) const { return find(s, hash(s)); }
    uint32_t find(std::string_view s, uint64_t h) const {
        if (slots_.empty()) return no_id;
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot &slot = slots_[i];
            if (slot.id == no_id) return no_id;
            if (slot.hash == h && strings_[slot.id] == s) return slot.id;
        }
    }
    size_t size() const { return strings_.size(); }
    const std::string &str(uint32_t id) const { return strings_[id]; }

private:
    struct Slot {
        uint64_t hash = 0;
        uint32_t id = no_id;
    };
    void rehash(size_t capacity);
    std::vector<Slot> slots_;
    size_t mask_ = 0;
    std::vector<std::string> strings_;
};

// Finds which of a set of byte strings occur in a text, in one pass (Aho-Corasick, with the transitions of each
// state laid out in a table over the byte classes the strings use).
class Substrings {
public:
    void add(std::string_view s, uint32_t id);
    void build();
    bool empty() const { return classes_ == 0; }

    // Calls found(id) for each occurrence of each string (an id may come more than once).
    template <class F> void scan(std::string_view text, F &&found) const {
        uint32_t state = 0;
        for (unsigned char c : text) {
            state = delta_[state * classes_ + byte_class_[c]];
            for (uint32_t i = out_begin_[state]; i < out_begin_[state + 1]; ++i) found(out_[i]);
        }
    }

private:
    struct Node {
        uint32_t next[256];
        std::vector<uint32_t> ids;
    };
    std::vector<std::unique_ptr<Node>> trie_; // while building
    uint8_t byte_class_[256] = {};
    uint32_t classes_ = 0;
    std::vector<uint32_t> delta_;     // state * classes_ + class → state
    std::vector<uint32_t> out_begin_; // state → its ids in out_ (the strings ending there)
    std::vector<uint32_t> out_;
};

class MatchIndex {
public:
    explicit MatchIndex(const RouteTable &table);

    // The ids each route's conditions test, in the order the conditions list them.
    struct RouteKeys {
        std::vector<uint32_t> keywords, tags_any, tags_all, mentions, regexes;
    };
    struct Keyword {
        std::string text;             // lower-cased
        bool one_word = false;        // a single word: found exactly when it is a word of the text
        std::vector<uint32_t> routes; // the routes it lets through
    };
    struct Regex {
        std::shared_ptr<RE2> re;
        bool always = false;          // no literal to look for first: runs whenever a route asks
        std::vector<uint32_t> routes; // the routes it lets through (when not always)
    };

    std::vector<RouteKeys> routes;
    StringIds words;                              // every word of every keyword
    std::vector<std::vector<uint32_t>> word_keys; // word → the keywords it anchors (their longest word)
    std::vector<Keyword> keywords;
    std::vector<uint32_t> wordless_keywords;      // keywords without a word byte (say "?!"): searched for
    StringIds tags;                               // lower-cased, as routes test and add them
    std::vector<std::vector<uint32_t>> tag_routes;
    StringIds mentions;
    std::vector<std::vector<uint32_t>> mention_routes;
    std::vector<Regex> regexes;
    Substrings literals;                          // the regexes' required strings, lower-cased
    std::vector<std::vector<uint32_t>> literal_regexes;
    std::vector<uint64_t> always;                 // bit set of the routes evaluated for every message
    size_t bitset_words = 0;
    bool any_author = false, any_language = false;
};

// What one message holds, for one MatchIndex. One per thread, reused from message to message: after the first
// few messages, working it out allocates nothing.
class MessageFacts {
public:
    void scan(const MatchIndex &index, const Message &m);

    // The next route at or after `from` whose gate is open; index.routes.size() when there is none.
    size_t next_candidate(size_t from) const {
        size_t n = index_->routes.size();
        for (size_t w = from / 64; w < index_->bitset_words; ++w) {
            uint64_t bits = candidates_[w] & (~uint64_t{0} << (w == from / 64 ? from % 64 : 0));
            if (bits) return std::min(n, w * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
        }
        return n;
    }

    bool keyword(uint32_t id) const { return keyword_seen_[id] == epoch_; }
    bool tag(uint32_t id) const { return tag_seen_[id] == epoch_; }
    bool mention(uint32_t id) const { return mention_seen_[id] == epoch_; }
    bool regex(uint32_t id, const Message &m);
    // A tag the tag action added: later routes see it.
    void add_tag(uint32_t id);

    const std::string &lowered_text() const { return text_; }
    const std::string &lowered_author() const { return author_; }
    const std::string &lowered_author_id() const { return author_id_; }
    const std::string &lowered_language() const { return language_; }

private:
    void open_gates(const std::vector<uint32_t> &routes) {
        for (uint32_t r : routes) candidates_[r / 64] |= uint64_t{1} << (r % 64);
    }
    void found_word(uint32_t word);

    const MatchIndex *index_ = nullptr;
    uint32_t epoch_ = 0;
    std::string text_, author_, author_id_, language_, scratch_;
    std::vector<uint64_t> candidates_;
    std::vector<uint32_t> word_seen_, keyword_seen_, tag_seen_, mention_seen_, regex_possible_, regex_done_;
    std::vector<uint8_t> regex_result_;
    std::vector<uint32_t> words_found_;
};

} // namespace relais
