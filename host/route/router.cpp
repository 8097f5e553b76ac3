#include "route/router.hpp"

#include "route/match_index.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace relais {

namespace {

// A keyword or phrase found in text on word boundaries; both already lower-cased.
bool contains_word(std::string_view text, std::string_view word) {
    if (word.empty()) return false;
    for (size_t pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + 1)) {
        bool start_ok = pos == 0 || !is_word_byte(static_cast<unsigned char>(text[pos - 1])) ||
                        !is_word_byte(static_cast<unsigned char>(word.front()));
        size_t end = pos + word.size();
        bool end_ok = end == text.size() || !is_word_byte(static_cast<unsigned char>(text[end])) ||
                      !is_word_byte(static_cast<unsigned char>(word.back()));
        if (start_ok && end_ok) return true;
    }
    return false;
}

void lower_into(std::string &out, std::string_view s) {
    out.assign(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}

template <class T> void grow(std::vector<T> &v, size_t n) {
    if (v.size() < n) v.resize(n, T{});
}

// "Bob (bob@acme.example)", or whichever of the two the message has.
std::string who(const Message &m) {
    if (m.author.empty() || m.author == m.author_id) return m.author_id.empty() ? m.author : m.author_id;
    return m.author_id.empty() ? m.author : m.author + " (" + m.author_id + ")";
}

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// Says why a condition failed, when asked: the reason is built only then.
template <class F> bool fail(std::string *why, F &&reason) {
    if (why) *why = reason();
    return false;
}

// Checks each condition, with the message's facts; on the first that fails, says which (when `why` is given).
bool conditions_hold(const Conditions &c, const MatchIndex::RouteKeys &k, const Message &m, MessageFacts &facts,
                     std::string *why) {
    if (!c.kinds.empty() && std::find(c.kinds.begin(), c.kinds.end(), m.kind) == c.kinds.end())
        return fail(why, [&] { return "kind is " + std::string(kind_name(m.kind)); });
    if (!c.channels.empty() && std::find(c.channels.begin(), c.channels.end(), m.channel) == c.channels.end())
        return fail(why, [&] { return "channel '" + m.channel + "' is not in [" + join(c.channels) + "]"; });
    if (!c.authors.empty()) {
        const std::string &a = facts.lowered_author(), &aid = facts.lowered_author_id();
        if (std::find_if(c.authors.begin(), c.authors.end(), [&](auto &x) { return x == a || x == aid; }) ==
            c.authors.end())
            return fail(why, [&] {
                return "author '" + (m.author_id.empty() ? m.author : m.author_id) + "' is not in [" +
                       join(c.authors) + "]";
            });
    }
    auto tag = [&](uint32_t id) { return facts.tag(id); };
    if (!k.tags_any.empty() && std::none_of(k.tags_any.begin(), k.tags_any.end(), tag))
        return fail(why, [&] { return "no tag in [" + join(c.tags_any) + "] (message tags: [" + join(m.tags) + "])"; });
    for (size_t i = 0; i < k.tags_all.size(); ++i)
        if (!facts.tag(k.tags_all[i])) return fail(why, [&] { return "tag '" + c.tags_all[i] + "' missing (tags_all)"; });
    if (!k.mentions.empty() &&
        std::none_of(k.mentions.begin(), k.mentions.end(), [&](uint32_t id) { return facts.mention(id); }))
        return fail(why, [&] { return "no mention of [" + join(c.mentions_any) + "]"; });
    if (!k.keywords.empty() &&
        std::none_of(k.keywords.begin(), k.keywords.end(), [&](uint32_t id) { return facts.keyword(id); }))
        return fail(why, [&] { return "no keyword of [" + join(c.keywords) + "] in the text"; });
    if (!k.regexes.empty() &&
        std::none_of(k.regexes.begin(), k.regexes.end(), [&](uint32_t id) { return facts.regex(id, m); })) {
        return fail(why, [&] {
            std::vector<std::string> patterns;
            for (auto &re : c.regexes) patterns.push_back(re->pattern());
            return "text matches no regex of [" + join(patterns) + "]";
        });
    }
    if (!c.languages.empty()) {
        const std::string &lang = facts.lowered_language();
        if (std::none_of(c.languages.begin(), c.languages.end(), [&](auto &l) {
                return lang == l || (lang.size() > l.size() && lang.compare(0, l.size(), l) == 0 && lang[l.size()] == '-');
            }))
            return fail(why, [&] { return "language '" + m.language + "' is not in [" + join(c.languages) + "]"; });
    }
    if (!c.levels.empty() && std::find(c.levels.begin(), c.levels.end(), m.level) == c.levels.end())
        return fail(why, [&] { return "level is " + std::string(level_name(m.level)); });
    return true;
}

bool from_matches(const Route &r, const Message &m) {
    if (r.from.empty()) return true;
    return std::any_of(r.from.begin(), r.from.end(), [&](const Endpoint &e) {
        return e.instance == m.source && (e.channel.empty() || e.channel == m.channel);
    });
}

} // namespace

namespace {

// Eight bytes at a time (SWAR): the high bit of each byte of the result is set when that byte is in [lo, hi]
// (both below 0x80).
constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
uint64_t in_range(uint64_t x, unsigned char lo, unsigned char hi) {
    uint64_t low7 = x & ~highs;
    return (low7 + ones * (0x80u - lo)) & ~(low7 + ones * (0x7fu - hi)) & ~x & highs;
}

// Lower-cases eight bytes; `words` gets bit k set when byte k is a word byte.
uint64_t lower8(uint64_t x, uint64_t &words) {
    uint64_t y = x | (in_range(x, 'A', 'Z') >> 2);
    uint64_t w = in_range(y, 'a', 'z') | in_range(y, '0', '9') | in_range(y, '_', '_') | (y & highs);
    words = ((w >> 7) * 0x0102040810204080ull) >> 56;
    return y;
}

} // namespace

void MessageFacts::found_word(size_t start, size_t end) {
    const char *p = lowered_.data() + start;
    if (!index_->may_be_word(p, end - start)) return;
    uint32_t w = index_->words.find(std::string_view(p, end - start), StringIds::hash_padded(p, end - start));
    if (w != no_id && word_seen_[w] != epoch_) {
        word_seen_[w] = epoch_;
        words_found_.push_back(w);
    }
}

// Lowers `text` into lowered_ and, when `look_up`, calls found_word for each of its words. 64 bytes at a time:
// a bit mask of the word bytes gives where words start and end without a branch per byte.
void MessageFacts::split_words(std::string_view text, bool look_up) {
    const size_t n = text.size();
    char *out = lowered_.data();
    if constexpr (std::endian::native != std::endian::little) {
        non_ascii_ = std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
        size_t start = std::string::npos;
        for (size_t i = 0; i < n; ++i) {
            unsigned char c = ascii_lower_table[static_cast<unsigned char>(text[i])];
            out[i] = static_cast<char>(c);
            if (word_byte_table[c]) {
                if (start == std::string::npos) start = i;
            } else if (start != std::string::npos) {
                if (look_up) found_word(start, i);
                start = std::string::npos;
            }
        }
        if (start != std::string::npos && look_up) found_word(start, n);
        return;
    }
    size_t open = std::string::npos; // where the current word started
    uint64_t carry = 0;              // 1 when the byte before the block is a word byte
    uint64_t high = 0;
    for (size_t base = 0; base < n; base += 64) {
        uint64_t mask = 0;
        for (size_t i = base, k = 0; i < n && k < 8; i += 8, ++k) {
            uint64_t x = 0, words;
            if (n - i >= 8) std::memcpy(&x, text.data() + i, 8);
            else std::memcpy(&x, text.data() + i, n - i);
            uint64_t y = lower8(x, words);
            high |= x;
            std::memcpy(out + i, &y, 8); // lowered_ has 8 bytes to spare past n
            mask |= words << (8 * k);
        }
        if (!look_up) continue;
        uint64_t before = mask << 1 | carry;
        uint64_t starts = mask & ~before, ends = ~mask & before;
        for (;;) {
            if (open == std::string::npos) {
                if (!starts) break;
                open = base + static_cast<size_t>(std::countr_zero(starts));
                starts &= starts - 1;
            } else {
                if (!ends) break;
                found_word(open, base + static_cast<size_t>(std::countr_zero(ends)));
                ends &= ends - 1;
                open = std::string::npos;
            }
        }
        carry = mask >> 63;
    }
    if (open != std::string::npos) found_word(open, n);
    non_ascii_ = (high & highs) != 0;
}

void MessageFacts::scan(const MatchIndex &index, const Message &m) {
    index_ = &index;
    message_ = &m;
    if (++epoch_ == 0) { // after 2^32 messages: forget every stamp rather than mistake an old one for new
        for (auto *v : {&word_seen_, &keyword_seen_, &tag_seen_, &mention_seen_, &literal_seen_, &regex_touched_,
                        &regex_possible_, &regex_done_})
            std::fill(v->begin(), v->end(), 0);
        author_done_ = language_done_ = 0;
        epoch_ = 1;
    }
    grow(word_seen_, index.words.size());
    grow(keyword_seen_, index.keywords.size());
    grow(tag_seen_, index.tags.size());
    grow(mention_seen_, index.mentions.size());
    grow(literal_seen_, index.literal_regexes.size());
    grow(regex_touched_, index.regexes.size());
    grow(regex_possible_, index.regexes.size());
    grow(regex_done_, index.regexes.size());
    grow(regex_result_, index.regexes.size());
    candidates_.assign(index.always.begin(), index.always.end());

    // One pass lowers the text and looks up each of its words among the keywords' words.
    const std::string_view plain = plain_punctuation(m.text, plain_);
    const size_t n = plain.size();
    length_ = n;
    if (lowered_.size() < n + 8) lowered_.resize(n + 8);
    words_found_.clear();
    split_words(plain, index.words.size() > 0);
    const std::string_view text = lowered_text();
    for (uint32_t w : words_found_)
        for (uint32_t k : index.word_keys[w]) {
            const MatchIndex::Keyword &kw = index.keywords[k];
            if (kw.one_word || contains_word(text, kw.text)) {
                keyword_seen_[k] = epoch_;
                open_gates(kw.routes);
            }
        }
    for (uint32_t k : index.wordless_keywords)
        if (contains_word(text, index.keywords[k].text)) keyword_seen_[k] = epoch_;

    if (index.tags.size())
        for (const auto &t : m.tags) {
            lower_into(scratch_, t);
            if (uint32_t id = index.tags.find(scratch_); id != no_id) add_tag(id);
        }
    if (index.mentions.size())
        for (const auto &x : m.mentions) {
            lower_into(scratch_, x);
            uint32_t id = index.mentions.find(scratch_);
            if (id != no_id && mention_seen_[id] != epoch_) {
                mention_seen_[id] = epoch_;
                open_gates(index.mention_routes[id]);
            }
        }

    // The regexes' required strings. RE2 lower-cases ſ (U+017F) to s and K (U+212A, Kelvin) to k when it works
    // them out, so the text is looked at the same way.
    if (!index.literals.empty()) {
        std::string_view literal_text = text;
        if (non_ascii_ && (text.find("\xc5\xbf") != std::string_view::npos ||
                           text.find("\xe2\x84\xaa") != std::string_view::npos)) {
            scratch_.clear();
            for (size_t i = 0; i < n; ++i) {
                if (text.compare(i, 2, "\xc5\xbf") == 0) {
                    scratch_ += 's';
                    i += 1;
                } else if (text.compare(i, 3, "\xe2\x84\xaa") == 0) {
                    scratch_ += 'k';
                    i += 2;
                } else {
                    scratch_ += text[i];
                }
            }
            literal_text = scratch_;
        }
        regexes_touched_.clear();
        index.literals.scan(literal_text, [&](uint32_t literal) {
            if (literal_seen_[literal] == epoch_) return;
            literal_seen_[literal] = epoch_;
            for (uint32_t re : index.literal_regexes[literal])
                if (regex_touched_[re] != epoch_) {
                    regex_touched_[re] = epoch_;
                    regexes_touched_.push_back(re);
                }
        });
        auto held = [&](uint32_t literal) { return literal_seen_[literal] == epoch_; };
        for (uint32_t re : regexes_touched_) {
            const auto &clauses = index.regexes[re].clauses;
            if (std::all_of(clauses.begin(), clauses.end(),
                            [&](const auto &clause) { return std::any_of(clause.begin(), clause.end(), held); })) {
                regex_possible_[re] = epoch_;
                open_gates(index.regexes[re].routes);
            }
        }
    }
}

const std::string &MessageFacts::lowered_author() {
    if (author_done_ != epoch_) {
        lower_into(author_, message_->author);
        lower_into(author_id_, message_->author_id);
        author_done_ = epoch_;
    }
    return author_;
}

const std::string &MessageFacts::lowered_author_id() {
    lowered_author();
    return author_id_;
}

const std::string &MessageFacts::lowered_language() {
    if (language_done_ != epoch_) {
        lower_into(language_, message_->language);
        language_done_ = epoch_;
    }
    return language_;
}

bool MessageFacts::regex(uint32_t id, const Message &m) {
    if (regex_done_[id] == epoch_) return regex_result_[id] != 0;
    const MatchIndex::Regex &re = index_->regexes[id];
    bool match = (re.always || regex_possible_[id] == epoch_) &&
                 re.re->Match(m.text, 0, m.text.size(), RE2::UNANCHORED, nullptr, 0);
    regex_done_[id] = epoch_;
    regex_result_[id] = match ? 1 : 0;
    return match;
}

void MessageFacts::add_tag(uint32_t id) {
    if (tag_seen_[id] == epoch_) return;
    tag_seen_[id] = epoch_;
    open_gates(index_->tag_routes[id]);
}

Router::Router(RouteTable table) : table_(std::move(table)), index_(std::make_shared<MatchIndex>(table_)) {}

Plan Router::route(Message &m, bool explain) const {
    Plan plan;
    // Explanations are built only when asked for: `line` is a function that makes the text.
    auto say = [&](auto &&line) {
        if (explain) plan.explanation.push_back(line());
    };
    thread_local MessageFacts facts;
    facts.scan(*index_, m);

    // Confidentiality and loops are checked here, for every delivery, whatever the route asked.
    auto plan_delivery = [&](const Route &r, const Endpoint &to, std::string rendered, Level level, bool archive,
                             std::string held = {}) {
        const InstanceFacts *dest = table_.instance(to.instance);
        if (!dest) return;
        if (static_cast<int>(level) > static_cast<int>(dest->level)) {
            plan.refusals.push_back({r.name, to.instance, "confidentiality",
                                     "message is " + std::string(level_name(level)) + ", " + to.instance +
                                         " may receive at most " + std::string(level_name(dest->level))});
            say([&] { return "    refused → " + to.str() + ": " + plan.refusals.back().detail; });
            return;
        }
        bool same_place = to.instance == m.source && (to.channel.empty() || to.channel == m.channel);
        bool seen = std::find(m.trace.begin(), m.trace.end(), to.instance) != m.trace.end() && to.instance != m.source;
        if (same_place || seen) {
            plan.refusals.push_back({r.name, to.instance, "loop",
                                     same_place ? "it would go back where it came from"
                                                : "it already passed through " + to.instance});
            say([&] { return "    refused → " + to.str() + ": " + plan.refusals.back().detail; });
            return;
        }
        for (const auto &d : plan.deliveries)
            if (d.instance == to.instance && d.channel == to.channel) {
                say([&] { return "    → " + to.str() + " already planned by route '" + d.route + "'"; });
                return;
            }
        say([&] {
            return "    → " + to.str() + (archive ? " (archive)" : "") + (held.empty() ? "" : " held for approval, " + held) +
                   ": \"" + rendered + "\"";
        });
        plan.deliveries.push_back({r.name, to.instance, to.channel, std::move(rendered), level, archive, std::move(held)});
    };

    // Without explain, only the routes whose gate the message opened; with it, every route.
    const size_t count = table_.routes.size();
    for (size_t i = explain ? 0 : facts.next_candidate(0); i < count;
         i = explain ? i + 1 : facts.next_candidate(i + 1)) {
        const Route &r = table_.routes[i];
        if (!from_matches(r, m)) {
            say([&] {
                std::vector<std::string> froms;
                for (const auto &e : r.from) froms.push_back(e.str());
                return "route '" + r.name + "': skipped, source " + m.source +
                       (m.channel.empty() ? "" : "/" + m.channel) + " is not in [" + join(froms) + "]";
            });
            continue;
        }
        std::string why;
        if (!conditions_hold(r.when, index_->routes[i], m, facts, explain ? &why : nullptr)) {
            say([&] { return "route '" + r.name + "': no match, " + why; });
            continue;
        }
        plan.matched_routes.push_back(r.name);
        say([&] { return "route '" + r.name + "': matched"; });
        bool stop = false;
        for (const Action &a : r.actions) {
            switch (a.type) {
            case Action::Type::relay: {
                Level level = a.as_level ? *a.as_level : m.level;
                if (a.as_level) say([&] { return "  relay as " + std::string(level_name(level)) + " (explicit as_level)"; });
                std::string held = a.hold ? "route '" + r.name + "' holds every message" : std::string();
                if (!a.speakers.empty()) {
                    const std::string &au = facts.lowered_author(), &aid = facts.lowered_author_id();
                    if (std::find_if(a.speakers.begin(), a.speakers.end(),
                                     [&](auto &x) { return x == au || (!aid.empty() && x == aid); }) == a.speakers.end())
                        held = "author '" + who(m) + "' is not a speaker of route '" + r.name + "'";
                }
                for (const auto &to : a.to) {
                    const InstanceFacts *dest = table_.instance(to.instance);
                    const Template *t = a.tmpl ? &*a.tmpl : (dest && dest->default_template ? &*dest->default_template : nullptr);
                    plan_delivery(r, to, t ? t->render(m) : m.text, level, false, held);
                }
                break;
            }
            case Action::Type::archive:
                for (const auto &to : a.to) plan_delivery(r, to, m.text, m.level, true);
                break;
            case Action::Type::tag:
                for (const auto &t : a.tags) {
                    uint32_t id = index_->tags.find(t);
                    if (!facts.tag(id)) {
                        m.tags.push_back(t);
                        facts.add_tag(id);
                        say([&] { return "  tag #" + t; });
                    }
                }
                break;
            case Action::Type::drop:
                plan.dropped = true;
                plan.dropped_by = r.name;
                plan.deliveries.clear();
                say([] { return std::string("  drop: the message goes nowhere"); });
                return plan;
            case Action::Type::stop:
                say([] { return std::string("  stop: later routes are not evaluated"); });
                stop = true;
                break;
            }
            if (stop) break;
        }
        if (stop) break;
    }
    if (explain && plan.matched_routes.empty()) say([] { return std::string("no route matched: the message goes nowhere"); });
    return plan;
}

} // namespace relais
