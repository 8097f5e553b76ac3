#include "reference.hpp"

#include <algorithm>

namespace relais::bench {
namespace {

bool word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80; }

// `word` occurs in `text` with no word byte glued to either end (a keyword's own non-word ends need none).
bool has_word(const std::string &text, const std::string &word) {
    if (word.empty()) return false;
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        size_t end = at + word.size();
        bool left = at == 0 || !word_byte(text[at - 1]) || !word_byte(word.front());
        bool right = end == text.size() || !word_byte(text[end]) || !word_byte(word.back());
        if (left && right) return true;
    }
    return false;
}

bool has_lower(const std::vector<std::string> &items, const std::string &lowered) {
    return std::any_of(items.begin(), items.end(), [&](const std::string &s) { return ascii_lower(s) == lowered; });
}

template <class T, class V> bool in(const std::vector<T> &items, const V &v) {
    return std::find(items.begin(), items.end(), v) != items.end();
}

bool holds(const Conditions &c, const Message &m) {
    const std::string text = ascii_lower(m.text);
    if (!c.kinds.empty() && !in(c.kinds, m.kind)) return false;
    if (!c.channels.empty() && !in(c.channels, m.channel)) return false;
    if (!c.authors.empty() && !in(c.authors, ascii_lower(m.author)) && !in(c.authors, ascii_lower(m.author_id)))
        return false;
    if (!c.tags_any.empty() && std::none_of(c.tags_any.begin(), c.tags_any.end(), [&](auto &t) {
            return has_lower(m.tags, t);
        }))
        return false;
    for (const auto &t : c.tags_all)
        if (!has_lower(m.tags, t)) return false;
    if (!c.mentions_any.empty() && std::none_of(c.mentions_any.begin(), c.mentions_any.end(), [&](auto &x) {
            return has_lower(m.mentions, x);
        }))
        return false;
    if (!c.keywords.empty() &&
        std::none_of(c.keywords.begin(), c.keywords.end(), [&](auto &k) { return has_word(text, k); }))
        return false;
    if (!c.regexes.empty() &&
        std::none_of(c.regexes.begin(), c.regexes.end(), [&](auto &re) { return RE2::PartialMatch(m.text, *re); }))
        return false;
    if (!c.languages.empty()) {
        std::string lang = ascii_lower(m.language);
        if (std::none_of(c.languages.begin(), c.languages.end(), [&](auto &l) {
                return lang == l || (lang.size() > l.size() && lang.compare(0, l.size(), l) == 0 && lang[l.size()] == '-');
            }))
            return false;
    }
    if (!c.levels.empty() && !in(c.levels, m.level)) return false;
    return true;
}

bool from_ok(const Route &r, const Message &m) {
    return r.from.empty() || std::any_of(r.from.begin(), r.from.end(), [&](const Endpoint &e) {
               return e.instance == m.source && (e.channel.empty() || e.channel == m.channel);
           });
}

} // namespace

Plan reference_route(const RouteTable &table, Message &m) {
    Plan plan;
    auto deliver = [&](const Route &r, const Endpoint &to, std::string rendered, Level level, bool archive) {
        const InstanceFacts *dest = table.instance(to.instance);
        if (!dest) return;
        if (static_cast<int>(level) > static_cast<int>(dest->level)) {
            plan.refusals.push_back({r.name, to.instance, "confidentiality", {}});
            return;
        }
        bool back = to.instance == m.source && (to.channel.empty() || to.channel == m.channel);
        bool seen = in(m.trace, to.instance) && to.instance != m.source;
        if (back || seen) {
            plan.refusals.push_back({r.name, to.instance, "loop", {}});
            return;
        }
        for (const auto &d : plan.deliveries)
            if (d.instance == to.instance && d.channel == to.channel) return;
        plan.deliveries.push_back({r.name, to.instance, to.channel, std::move(rendered), level, archive});
    };
    for (const Route &r : table.routes) {
        if (!from_ok(r, m) || !holds(r.when, m)) continue;
        plan.matched_routes.push_back(r.name);
        for (const Action &a : r.actions) {
            switch (a.type) {
            case Action::Type::relay:
                for (const auto &to : a.to) {
                    const InstanceFacts *dest = table.instance(to.instance);
                    const Template *t =
                        a.tmpl ? &*a.tmpl : (dest && dest->default_template ? &*dest->default_template : nullptr);
                    deliver(r, to, t ? t->render(m) : m.text, a.as_level ? *a.as_level : m.level, false);
                }
                break;
            case Action::Type::archive:
                for (const auto &to : a.to) deliver(r, to, m.text, m.level, true);
                break;
            case Action::Type::tag:
                for (const auto &t : a.tags)
                    if (!has_lower(m.tags, t)) m.tags.push_back(t);
                break;
            case Action::Type::drop:
                plan.dropped = true;
                plan.dropped_by = r.name;
                plan.deliveries.clear();
                return plan;
            case Action::Type::stop: return plan;
            }
        }
    }
    return plan;
}

std::string plan_difference(const Plan &e, const Plan &r) {
    auto names = [](const std::vector<std::string> &v) {
        std::string s;
        for (const auto &x : v) s += (s.empty() ? "" : ",") + x;
        return "[" + s + "]";
    };
    if (e.matched_routes != r.matched_routes)
        return "matched " + names(e.matched_routes) + ", expected " + names(r.matched_routes);
    if (e.dropped != r.dropped || e.dropped_by != r.dropped_by) return "dropped differs";
    if (e.deliveries.size() != r.deliveries.size())
        return std::to_string(e.deliveries.size()) + " deliveries, expected " + std::to_string(r.deliveries.size());
    for (size_t i = 0; i < e.deliveries.size(); ++i) {
        const auto &a = e.deliveries[i], &b = r.deliveries[i];
        if (a.route != b.route || a.instance != b.instance || a.channel != b.channel || a.rendered != b.rendered ||
            a.level != b.level || a.archive != b.archive)
            return "delivery " + std::to_string(i) + " differs: " + a.route + "→" + a.instance + "/" + a.channel +
                   ", expected " + b.route + "→" + b.instance + "/" + b.channel;
    }
    if (e.refusals.size() != r.refusals.size())
        return std::to_string(e.refusals.size()) + " refusals, expected " + std::to_string(r.refusals.size());
    for (size_t i = 0; i < e.refusals.size(); ++i)
        if (e.refusals[i].route != r.refusals[i].route || e.refusals[i].instance != r.refusals[i].instance ||
            e.refusals[i].reason != r.refusals[i].reason)
            return "refusal " + std::to_string(i) + " differs";
    return {};
}

} // namespace relais::bench
