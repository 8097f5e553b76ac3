// What makes routing cost little more than one pass over a message's text, however many routes there are.
//
// MatchIndex is built once from the route table (in compile.cpp): every keyword, tag, mention and regex the routes
// test gets a small id, and each route names one condition as its gate, a condition it cannot match without.
// MessageFacts is worked out once per message (in router.cpp): one pass lowers the text and splits it into words,
// eight bytes at a time; each word is looked up among the keywords' words (most are turned away by their length
// and first and last bytes, the others by a hash look-up); a second pass finds the literal strings the regexes
// cannot match without (RE2's FilteredRE2 names them); the message's tags and mentions are looked up by id. A route
// whose gate stays shut is not evaluated at all; the others are evaluated with look-ups instead of searches, and a
// regex runs (once per message at most) only when its literals are in the text.
//
// Everything is exact: the gates only skip routes that could not match, and the facts answer each condition as
// the plain definition would. bench/rules checks this on every message of its corpus (`bench-rules --verify`).
#pragma once

#include "route/rules.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace relais {

inline constexpr uint32_t no_id = UINT32_MAX;

// Lower-cased ASCII letters; every other byte as it is.
inline constexpr std::array<unsigned char, 256> ascii_lower_table = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return t;
}();

// A byte of a word, for keywords' word boundaries: ASCII letters (lower-cased first), digits, '_' and every byte
// of a non-ASCII UTF-8 character.
constexpr bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}
inline constexpr std::array<bool, 256> word_byte_table = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = is_word_byte(static_cast<unsigned char>(c));
    return t;
}();

// Typographic punctuation and spaces written as their ASCII cousins: ’ ‘ → ', “ ” « » → ", – — → -, … → ., and
// the no-break and thin spaces French puts before : ; ! ? → space. Their UTF-8 bytes would otherwise count as
// word bytes: "l’hydrogène" would hide the word "hydrogène", and "appel d’offres" would not match the phrase
// "appel d'offres". Returns `text` itself when it holds none of them, else a copy in `scratch`.
inline std::string_view plain_punctuation(std::string_view text, std::string &scratch) {
    if (text.find('\xC2') == std::string_view::npos && text.find('\xE2') == std::string_view::npos) return text;
    scratch.clear();
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        const unsigned char next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if (c == 0xC2 && (next == 0xA0 || next == 0xAB || next == 0xBB)) {
            scratch += next == 0xA0 ? ' ' : '"';
            ++i;
            continue;
        }
        if (c == 0xE2 && next == 0x80 && i + 2 < text.size()) {
            char plain = 0;
            switch (static_cast<unsigned char>(text[i + 2])) {
            case 0x98: case 0x99: plain = '\''; break;
            case 0x9C: case 0x9D: plain = '"'; break;
            case 0x93: case 0x94: plain = '-'; break;
            case 0xA6: plain = '.'; break;
            case 0x89: case 0xAF: plain = ' '; break;
            }
            if (plain) {
                scratch += plain;
                i += 2;
                continue;
            }
        }
        scratch += static_cast<char>(c);
    }
    return scratch;
}

// Strings to dense ids (0, 1, 2…), by open addressing.
class StringIds {
public:
    // Eight bytes at a time; the last few bytes are read as if followed by zeros.
    static uint64_t hash(std::string_view s) {
        uint64_t h = s.size() * 0x9e3779b97f4a7c15ull;
        size_t i = 0;
        for (; i + 8 <= s.size(); i += 8) h = mix(h, load(s.data() + i));
        if (i < s.size()) {
            uint64_t v = 0;
            std::memcpy(&v, s.data() + i, s.size() - i);
            h = mix(h, v);
        }
        return h;
    }
    // The same, for a string that may be read up to 7 bytes past its end.
    static uint64_t hash_padded(const char *p, size_t n) {
        uint64_t h = n * 0x9e3779b97f4a7c15ull;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) h = mix(h, load(p + i));
        if (size_t rest = n - i) {
            uint64_t v = load(p + i);
            if constexpr (std::endian::native == std::endian::little) v &= ~uint64_t{0} >> (8 * (8 - rest));
            else v &= ~uint64_t{0} << (8 * (8 - rest));
            h = mix(h, v);
        }
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
    static uint64_t load(const char *p) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    }
    static uint64_t mix(uint64_t h, uint64_t v) {
        h = (h ^ v) * 0x9fb21c651e98df25ull;
        return h ^ (h >> 29);
    }
    struct Slot {
        uint64_t hash = 0;
        uint32_t id = no_id;
    };
    void rehash(size_t capacity);
    std::vector<Slot> slots_;
    size_t mask_ = 0;
    std::vector<std::string> strings_;
};

// Finds which of a set of byte strings occur in a text, in one pass: each position's three bytes are hashed into
// a bit set of the strings' first three bytes; only where the bit is set are the strings compared. No position
// depends on the one before, so the pass runs at a few cycles a byte. Strings of one byte are looked up in the set
// of the bytes the pass saw; strings of two bytes are searched for one by one.
class Substrings {
public:
    void add(std::string_view s, uint32_t id);
    void build();
    bool empty() const { return entries_.empty() && single_.empty() && pairs_.empty(); }

    // Calls found(id) for each occurrence of each string (an id may come more than once). The byte after the
    // text is read (a std::string's terminating NUL, or spare room), not used.
    template <class F> void scan(std::string_view text, F &&found) const {
        if (single_.empty()) scan_positions<false>(text, found);
        else scan_positions<true>(text, found);
        for (const auto &e : pairs_)
            if (text.find(e.text) != std::string_view::npos) found(e.id);
    }

private:
    static uint32_t slot(uint32_t first3) { return (first3 * 0x9e3779b1u) >> 16; }
    // The three bytes at p, the first in the low byte; p[3] must be readable.
    static uint32_t first3(const unsigned char *p) {
        if constexpr (std::endian::native == std::endian::little) {
            uint32_t v;
            std::memcpy(&v, p, 4);
            return v & 0xffffff;
        } else {
            return p[0] | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16;
        }
    }
    template <bool Singles, class F> void scan_positions(std::string_view text, F &found) const {
        const auto *p = reinterpret_cast<const unsigned char *>(text.data());
        const size_t n = text.size();
        for (size_t i = 0; i + 3 <= n; ++i) {
            const uint32_t tri = first3(p + i), h = slot(tri);
            if (filter_[h >> 6] >> (h & 63) & 1) {
                auto it = std::lower_bound(entries_.begin(), entries_.end(), tri,
                                           [](const Entry &e, uint32_t t) { return e.first3 < t; });
                for (; it != entries_.end() && it->first3 == tri; ++it)
                    if (i + it->text.size() <= n && std::memcmp(p + i, it->text.data(), it->text.size()) == 0)
                        found(it->id);
            }
        }
        if constexpr (Singles) {
            uint64_t singles = 0; // bit j: the text holds single_[j]; a loop of its own, to stay in a register
            for (size_t i = 0; i < n; ++i) singles |= single_bits_[p[i]];
            for (; singles; singles &= singles - 1) found(single_[static_cast<size_t>(std::countr_zero(singles))].id);
        }
    }
    struct Entry {
        uint32_t first3 = 0; // the first three bytes, the first in the low byte
        uint32_t id = 0;
        std::string text;
    };
    std::vector<uint64_t> filter_; // 2^16 bits
    std::vector<Entry> entries_;   // by first3
    std::vector<Entry> single_;    // strings of 1 byte (64 at most; more go with the pairs)
    std::array<uint64_t, 256> single_bits_{}; // byte → the bit of its string in single_, if any
    std::vector<Entry> pairs_;     // strings of 2 bytes, searched for one by one
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
        std::vector<std::vector<uint32_t>> clauses; // literals: one of each clause must be in the text
    };

    // A quick no for most words of a text: a bit for each (length, first byte, last byte) of the keywords' words.
    static uint32_t word_shape(const char *p, size_t n) {
        return static_cast<uint32_t>(std::min<size_t>(n, 15)) << 10 | (static_cast<unsigned char>(p[0]) & 31u) << 5 |
               (static_cast<unsigned char>(p[n - 1]) & 31u);
    }
    bool may_be_word(const char *p, size_t n) const {
        uint32_t shape = word_shape(p, n);
        return word_shapes[shape >> 6] >> (shape & 63) & 1;
    }

    std::vector<RouteKeys> routes;
    std::array<uint64_t, 256> word_shapes{};      // 16,384 bits
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
    std::vector<std::vector<uint32_t>> literal_regexes; // literal → the regexes that need it
    std::vector<uint64_t> always;                 // bit set of the routes evaluated for every message
    size_t bitset_words = 0;
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
            if (bits) return std::min(n, w * 64 + static_cast<size_t>(std::countr_zero(bits)));
        }
        return n;
    }

    bool keyword(uint32_t id) const { return keyword_seen_[id] == epoch_; }
    bool tag(uint32_t id) const { return tag_seen_[id] == epoch_; }
    bool mention(uint32_t id) const { return mention_seen_[id] == epoch_; }
    bool regex(uint32_t id, const Message &m);
    // A tag the tag action added: later routes see it.
    void add_tag(uint32_t id);

    std::string_view lowered_text() const { return {lowered_.data(), length_}; }
    const std::string &lowered_author();
    const std::string &lowered_author_id();
    const std::string &lowered_language();

private:
    void open_gates(const std::vector<uint32_t> &routes) {
        for (uint32_t r : routes) candidates_[r / 64] |= uint64_t{1} << (r % 64);
    }
    void split_words(std::string_view text, bool look_up);
    void found_word(size_t start, size_t end);

    const MatchIndex *index_ = nullptr;
    const Message *message_ = nullptr;
    uint32_t epoch_ = 0;
    uint32_t author_done_ = 0, language_done_ = 0; // the epoch they were lowered in
    std::vector<char> lowered_; // the text lower-cased, and 8 bytes more, so that words can be hashed 8 bytes at a time
    std::string plain_;          // the text with typographic punctuation made plain (see plain_punctuation)
    size_t length_ = 0;
    bool non_ascii_ = false; // the text holds a byte >= 0x80
    std::string author_, author_id_, language_, scratch_;
    std::vector<uint64_t> candidates_;
    std::vector<uint32_t> word_seen_, keyword_seen_, tag_seen_, mention_seen_, literal_seen_, regex_touched_,
        regex_possible_, regex_done_;
    std::vector<uint32_t> regexes_touched_;
    std::vector<uint8_t> regex_result_;
    std::vector<uint32_t> words_found_;
};

} // namespace relais
