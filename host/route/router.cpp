#include "route/router.hpp"

#include <algorithm>

namespace relais {

namespace {

bool is_word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80; }

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

bool contains_lower(const std::vector<std::string> &haystack, const std::string &needle) {
    for (const auto &s : haystack)
        if (ascii_lower(s) == needle) return true;
    return false;
}

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// Checks each condition; on the first that fails, says which (when `why` is given).
bool conditions_hold(const Conditions &c, const Message &m, const std::string &lowered_text, std::string *why) {
    auto fail = [&](std::string reason) {
        if (why) *why = std::move(reason);
        return false;
    };
    if (!c.kinds.empty() && std::find(c.kinds.begin(), c.kinds.end(), m.kind) == c.kinds.end())
        return fail("kind is " + std::string(kind_name(m.kind)));
    if (!c.channels.empty() && std::find(c.channels.begin(), c.channels.end(), m.channel) == c.channels.end())
        return fail("channel '" + m.channel + "' is not in [" + join(c.channels) + "]");
    if (!c.authors.empty()) {
        std::string a = ascii_lower(m.author), aid = ascii_lower(m.author_id);
        if (std::find_if(c.authors.begin(), c.authors.end(), [&](auto &x) { return x == a || x == aid; }) ==
            c.authors.end())
            return fail("author '" + (m.author_id.empty() ? m.author : m.author_id) + "' is not in [" +
                        join(c.authors) + "]");
    }
    if (!c.tags_any.empty() &&
        std::none_of(c.tags_any.begin(), c.tags_any.end(), [&](auto &t) { return contains_lower(m.tags, t); }))
        return fail("no tag in [" + join(c.tags_any) + "] (message tags: [" + join(m.tags) + "])");
    for (const auto &t : c.tags_all)
        if (!contains_lower(m.tags, t)) return fail("tag '" + t + "' missing (tags_all)");
    if (!c.mentions_any.empty() && std::none_of(c.mentions_any.begin(), c.mentions_any.end(), [&](auto &x) {
            return contains_lower(m.mentions, x);
        }))
        return fail("no mention of [" + join(c.mentions_any) + "]");
    if (!c.keywords.empty() && std::none_of(c.keywords.begin(), c.keywords.end(), [&](auto &k) {
            return contains_word(lowered_text, k);
        }))
        return fail("no keyword of [" + join(c.keywords) + "] in the text");
    if (!c.regexes.empty() &&
        std::none_of(c.regexes.begin(), c.regexes.end(), [&](auto &re) { return RE2::PartialMatch(m.text, *re); })) {
        std::vector<std::string> patterns;
        for (auto &re : c.regexes) patterns.push_back(re->pattern());
        return fail("text matches no regex of [" + join(patterns) + "]");
    }
    if (!c.languages.empty()) {
        std::string lang = ascii_lower(m.language);
        if (std::none_of(c.languages.begin(), c.languages.end(), [&](auto &l) {
                return lang == l || (lang.size() > l.size() && lang.compare(0, l.size(), l) == 0 && lang[l.size()] == '-');
            }))
            return fail("language '" + m.language + "' is not in [" + join(c.languages) + "]");
    }
    if (!c.levels.empty() && std::find(c.levels.begin(), c.levels.end(), m.level) == c.levels.end())
        return fail("level is " + std::string(level_name(m.level)));
    return true;
}

bool from_matches(const Route &r, const Message &m) {
    if (r.from.empty()) return true;
    return std::any_of(r.from.begin(), r.from.end(), [&](const Endpoint &e) {
        return e.instance == m.source && (e.channel.empty() || e.channel == m.channel);
    });
}

} // namespace

Plan Router::route(Message &m, bool explain) const {
    Plan plan;
    auto say = [&](std::string line) {
        if (explain) plan.explanation.push_back(std::move(line));
    };
    std::string lowered = ascii_lower(m.text);

    // Confidentiality and loops are checked here, for every delivery, whatever the route asked.
    auto plan_delivery = [&](const Route &r, const Endpoint &to, const std::string &rendered, Level level,
                             bool archive) {
        const InstanceFacts *dest = table_.instance(to.instance);
        if (!dest) return;
        if (static_cast<int>(level) > static_cast<int>(dest->level)) {
            plan.refusals.push_back({r.name, to.instance, "confidentiality",
                                     "message is " + std::string(level_name(level)) + ", " + to.instance +
                                         " may receive at most " + std::string(level_name(dest->level))});
            say("    refused → " + to.str() + ": " + plan.refusals.back().detail);
            return;
        }
        bool same_place = to.instance == m.source && (to.channel.empty() || to.channel == m.channel);
        bool seen = std::find(m.trace.begin(), m.trace.end(), to.instance) != m.trace.end() && to.instance != m.source;
        if (same_place || seen) {
            plan.refusals.push_back({r.name, to.instance, "loop",
                                     same_place ? "it would go back where it came from"
                                                : "it already passed through " + to.instance});
            say("    refused → " + to.str() + ": " + plan.refusals.back().detail);
            return;
        }
        for (const auto &d : plan.deliveries)
            if (d.instance == to.instance && d.channel == to.channel) {
                say("    → " + to.str() + " already planned by route '" + d.route + "'");
                return;
            }
        plan.deliveries.push_back({r.name, to.instance, to.channel, rendered, level, archive});
        say("    → " + to.str() + (archive ? " (archive)" : "") + ": \"" + rendered + "\"");
    };

    for (const Route &r : table_.routes) {
        if (!from_matches(r, m)) {
            if (explain) {
                std::vector<std::string> froms;
                for (const auto &e : r.from) froms.push_back(e.str());
                say("route '" + r.name + "': skipped, source " + m.source + (m.channel.empty() ? "" : "/" + m.channel) +
                    " is not in [" + join(froms) + "]");
            }
            continue;
        }
        std::string why;
        if (!conditions_hold(r.when, m, lowered, explain ? &why : nullptr)) {
            say("route '" + r.name + "': no match, " + why);
            continue;
        }
        plan.matched_routes.push_back(r.name);
        say("route '" + r.name + "': matched");
        bool stop = false;
        for (const Action &a : r.actions) {
            switch (a.type) {
            case Action::Type::relay: {
                Level level = a.as_level ? *a.as_level : m.level;
                if (a.as_level) say("  relay as " + std::string(level_name(level)) + " (explicit as_level)");
                for (const auto &to : a.to) {
                    const InstanceFacts *dest = table_.instance(to.instance);
                    const Template *t = a.tmpl ? &*a.tmpl : (dest && dest->default_template ? &*dest->default_template : nullptr);
                    plan_delivery(r, to, t ? t->render(m) : m.text, level, false);
                }
                break;
            }
            case Action::Type::archive:
                for (const auto &to : a.to) plan_delivery(r, to, m.text, m.level, true);
                break;
            case Action::Type::tag:
                for (const auto &t : a.tags)
                    if (!contains_lower(m.tags, t)) {
                        m.tags.push_back(t);
                        say("  tag #" + t);
                    }
                lowered = ascii_lower(m.text);
                break;
            case Action::Type::drop:
                plan.dropped = true;
                plan.dropped_by = r.name;
                plan.deliveries.clear();
                say("  drop: the message goes nowhere");
                return plan;
            case Action::Type::stop:
                say("  stop: later routes are not evaluated");
                stop = true;
                break;
            }
            if (stop) break;
        }
        if (stop) break;
    }
    if (explain && plan.matched_routes.empty()) say("no route matched: the message goes nowhere");
    return plan;
}

} // namespace relais
