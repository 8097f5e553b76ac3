#include "workload.hpp"

#include <relais/plugin.h>

#include <cmath>

namespace relais::bench {
namespace {

struct Source {
    const char *id;
    const char *plugin;
    Level level;
    double weight;
};

const Source sources[] = {{"irc", "irc", Level::internal, 0.30},       {"xmpp", "xmpp", Level::confidential, 0.20},
                          {"matrix", "matrix", Level::internal, 0.20}, {"mastodon", "mastodon", Level::public_, 0.15},
                          {"rss", "rss", Level::public_, 0.10},        {"api", "api", Level::internal, 0.05}};
const std::vector<std::string> channels{"general", "dev", "ops", "support", "random"};
const std::vector<std::string> sinks{"team", "team/alerts", "outside", "console", "webhook", "webhook/ops", "irc/ops",
                                     "matrix/general"};
const std::vector<std::string> named_tags{"release", "ops", "security", "veille", "incident", "hiring",
                                          "docs",    "outage", "design", "legal",   "press",    "customer"};

const Source &pick_source(Rng &rng) {
    double u = rng.uniform();
    for (const auto &s : sources)
        if ((u -= s.weight) < 0) return s;
    return sources[0];
}

std::string number(Rng &rng, int min_digits, int max_digits) {
    std::string n;
    int digits = rng.between(min_digits, max_digits);
    for (int i = 0; i < digits; ++i) n += static_cast<char>('0' + (i == 0 ? rng.between(1, 9) : rng.between(0, 9)));
    return n;
}

// A rank drawn log-uniformly from [lo, hi): as many rules about rank-300 words as about rank-3,000 ones.
size_t log_uniform(Rng &rng, size_t lo, size_t hi) {
    double x = std::exp(std::log(static_cast<double>(lo)) +
                        rng.uniform() * (std::log(static_cast<double>(hi)) - std::log(static_cast<double>(lo))));
    return std::min(static_cast<size_t>(x), hi - 1);
}

std::string quoted(const std::string &s) { return "'" + s + "'"; } // YAML single quotes: no escapes inside

std::string list(const std::vector<std::string> &items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
    return out + "]";
}

} // namespace

Workload::Workload(uint64_t seed) : seed_(seed), words_(50'000, 1.0, seed) {
    Rng rng(seed_for(seed, 0xa11ce));
    tags_ = named_tags;
    for (size_t rank = 150; tags_.size() < 300; rank += 1 + rng.below(40)) tags_.push_back(words_.word(rank));
    for (int i = 0; i < 400; ++i) {
        std::string nick = words_.word(100 + rng.below(3000));
        if (rng.chance(0.3)) nick = capitalised(nick);
        if (rng.chance(0.4)) nick += std::to_string(rng.below(100));
        authors_.push_back(nick);
    }
}

std::vector<InstanceFacts> Workload::instances() const {
    std::vector<InstanceFacts> out;
    for (const auto &s : sources) {
        uint32_t caps = RELAIS_CAP_SOURCE | (std::string(s.id) == "rss" ? 0u : RELAIS_CAP_SINK);
        out.push_back(InstanceFacts{s.id, s.plugin, s.level, caps, std::nullopt});
    }
    std::string error;
    out.push_back(InstanceFacts{"team", "console", Level::internal, RELAIS_CAP_SINK, std::nullopt});
    out.push_back(InstanceFacts{"outside", "bluesky", Level::public_, RELAIS_CAP_SINK, std::nullopt});
    out.push_back(InstanceFacts{"console", "console", Level::secret, RELAIS_CAP_SINK, std::nullopt});
    out.push_back(InstanceFacts{"webhook", "webhook", Level::internal, RELAIS_CAP_SINK,
                                Template::compile("{author} on {network}: {text}", error)});
    out.push_back(InstanceFacts{"archive", "archive-sqlite", Level::secret, RELAIS_CAP_SINK | RELAIS_CAP_ARCHIVE,
                                std::nullopt});
    return out;
}

std::string Workload::keyword(Rng &rng) const {
    if (rng.chance(0.12)) // a phrase of two fairly common words
        return words_.word(log_uniform(rng, 20, 2000)) + " " + words_.word(log_uniform(rng, 20, 2000));
    std::string w = words_.word(log_uniform(rng, 300, words_.size()));
    return rng.chance(0.2) ? capitalised(w) : w;
}

std::string Workload::tag(Rng &rng) const {
    return rng.chance(0.3) ? rng.pick(named_tags) : tags_[rng.below(tags_.size())];
}

std::string Workload::route_yaml(size_t i) const {
    Rng rng(seed_for(seed_, i + 1));
    std::string y = "  - name: r" + std::to_string(i + 1) + "\n";
    auto keywords = [&](int lo, int hi) {
        std::vector<std::string> k;
        for (int n = rng.between(lo, hi); n > 0; --n) k.push_back(keyword(rng));
        return "keywords: " + list(k);
    };
    auto tags = [&](int lo, int hi) {
        std::vector<std::string> t;
        for (int n = rng.between(lo, hi); n > 0; --n) t.push_back(tag(rng));
        return list(t);
    };
    auto relay = [&]() {
        std::vector<std::string> to{rng.pick(sinks)};
        if (rng.chance(0.25)) to.push_back(rng.pick(sinks));
        std::string r = "{ relay: { to: " + list(to);
        if (rng.chance(0.15)) r += ", template: '[{source}] {author}: {text}'";
        return r + " } }";
    };
    auto from = [&](double p) {
        if (rng.chance(p)) y += "    from: " + std::string(pick_source(rng).id) + "\n";
    };

    std::string when, actions;
    int type = static_cast<int>(rng.below(100));
    if (i == 4) { // the awkward cases, so that --verify covers them: keywords that are not plain words, and a
                  // regex that RE2 also finds with the Kelvin sign (U+212A) or a long s (U+017F)
        when = "{ keywords: ['c++', 'e-mail', \"appel d'offres\", '?!', 'node.js'] }";
        actions = "[" + relay() + "]";
    } else if (i == 7) {
        when = "{ regex: '(?i)kelvin\\b|stop' }";
        actions = "[" + relay() + "]";
    } else if (i % 97 == 96) { // now and then a spam filter
        when = "{ " + keywords(2, 3) + " }";
        actions = "[drop]";
    } else if (type < 40) {
        from(0.5);
        when = "{ " + keywords(1, 4) + " }";
        actions = "[" + relay() + (rng.chance(0.2) ? ", archive" : "") + "]";
    } else if (type < 60) {
        from(0.4);
        std::string w = words_.word(log_uniform(rng, 100, 5000));
        std::string re;
        int form = static_cast<int>(rng.below(100));
        if (form < 25) re = "(?i)\\b" + w + "-\\d{2,}\\b";
        else if (form < 45) re = "https?://(www\\.)?" + w + "\\.(com|org|net|io)(/\\S*)?";
        else if (form < 70) re = "(?i)\\b" + w + "(s|ed|ing)?\\b";
        else if (form < 80) re = "(?i)\\b(" + w + "|" + words_.word(log_uniform(rng, 100, 5000)) + ")\\W+\\d+";
        else if (form < 85) re = "\\b[A-Z]{3,}-\\d{3,}\\b";
        else if (form < 90) re = "CVE-\\d{4}-\\d{4,}";
        else if (form < 95) re = "\\b\\d{1,3}(\\.\\d{1,3}){3}\\b";
        else re = "(?i)^(" + w + "|" + words_.word(log_uniform(rng, 100, 5000)) + ")\\b";
        when = "{ regex: " + quoted(re) + " }";
        actions = "[" + relay() + "]";
    } else if (type < 80) {
        from(0.3);
        when = rng.chance(0.8) ? "{ tags_any: " + tags(1, 3) + " }" : "{ tags_all: " + tags(2, 2) + " }";
        actions = rng.chance(0.4) ? "[archive]" : "[" + relay() + "]";
    } else if (type < 90) {
        from(0.3);
        std::vector<std::string> parts;
        if (rng.chance(0.5)) parts.push_back("kind: [post, reply]");
        if (rng.chance(0.4)) parts.push_back("language: " + std::string(rng.chance(0.5) ? "fr" : "en"));
        if (rng.chance(0.3)) parts.push_back("channel: " + quoted(rng.pick(channels)));
        if (rng.chance(0.3)) parts.push_back("level: [public, internal]");
        if (rng.chance(0.3)) parts.push_back("author: " + quoted(rng.pick(authors_)));
        if (rng.chance(0.6)) parts.push_back(keywords(1, 3));
        else parts.push_back("tags_any: " + tags(1, 2));
        if (rng.chance(0.2)) parts.push_back("mentions_any: " + list({"@" + rng.pick(authors_)}));
        when = "{ ";
        for (size_t p = 0; p < parts.size(); ++p) when += (p ? ", " : "") + parts[p];
        when += " }";
        actions = "[" + relay() + "]";
    } else {
        from(0.3);
        when = "{ " + keywords(2, 4) + " }";
        actions = "[{ tag: " + tags(1, 1) + " }]";
    }
    y += "    when: " + when + "\n    do: " + actions + "\n";
    return y;
}

std::string Workload::routes_yaml(size_t count) const {
    std::string out;
    for (size_t i = 0; i < count; ++i) out += route_yaml(i);
    return out;
}

std::string Workload::text(Rng &rng) const {
    std::vector<std::string> tokens;
    double u = rng.uniform();
    int n = 4 + static_cast<int>(36 * u * u); // 4 to 40 words, most of them short
    for (int k = 0; k < n; ++k) {
        std::string w = words_.draw(rng);
        if (k == 0 || rng.chance(0.03)) w = capitalised(w);
        if (k + 1 < n && rng.chance(0.06)) w += ",";
        tokens.push_back(std::move(w));
    }
    auto insert = [&](std::string t) { tokens.insert(tokens.begin() + rng.below(tokens.size() + 1), std::move(t)); };
    if (rng.chance(0.08))
        insert("https://" + std::string(rng.chance(0.5) ? "www." : "") + words_.word(words_.sample(rng) % 5000) + "." +
               rng.pick(std::vector<std::string>{"com", "org", "net", "io"}) + "/" + words_.draw(rng) + "/" +
               number(rng, 2, 6));
    if (rng.chance(0.06)) insert("@" + rng.pick(authors_));
    if (rng.chance(0.10)) insert("#" + tags_[std::min<size_t>(words_.sample(rng), tags_.size() - 1)]);
    if (rng.chance(0.05)) insert(upper(words_.word(words_.sample(rng) % 5000)) + "-" + number(rng, 2, 5));
    if (rng.chance(0.01)) insert("CVE-2023-" + number(rng, 4, 5));
    if (rng.chance(0.02)) insert("10." + number(rng, 1, 2) + "." + number(rng, 1, 3) + "." + number(rng, 1, 3));
    if (rng.chance(0.03)) insert(rng.chance(0.5) ? "\xf0\x9f\x99\x82" : "\xf0\x9f\x91\x8d"); // 🙂 👍
    if (rng.chance(0.02)) // what the awkward routes look for, and near misses
        insert(rng.pick(std::vector<std::string>{"C++", "c++11", "E-mail", "e-mails", "appel d'offres", "?!", "!?!",
                                                 "Node.js", "node.jsx", "\xe2\x84\xaa" "elvin", "\xc5\xbf" "top",
                                                 "KELVIN", "kelvins", "\xc5\xbf"}));
    std::string out;
    for (const auto &t : tokens) out += (out.empty() ? "" : " ") + t;
    double end = rng.uniform();
    out += end < 0.5 ? "" : end < 0.8 ? "." : end < 0.93 ? "?" : "!";
    return out;
}

std::vector<Message> Workload::messages(size_t count) const {
    std::vector<Message> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        Rng rng(seed_for(seed_ ^ 0x5eed, i));
        const Source &s = pick_source(rng);
        Message m;
        m.id = "m" + std::to_string(i);
        m.source = s.id;
        m.network = s.plugin;
        m.channel = rng.pick(channels);
        m.native_id = std::to_string(1000000 + i);
        double k = rng.uniform();
        m.kind = k < 0.85 ? Kind::post : k < 0.95 ? Kind::reply : k < 0.99 ? Kind::edit : Kind::reaction;
        m.author = rng.pick(authors_);
        m.author_id = m.author + "@" + s.id + ".example";
        m.text = text(rng);
        if (rng.chance(0.3))
            for (int t = rng.between(1, 3); t > 0; --t) {
                std::string tag = tags_[std::min<size_t>(words_.sample(rng) % 400, tags_.size() - 1)];
                m.tags.push_back(rng.chance(0.1) ? capitalised(tag) : tag);
            }
        if (rng.chance(0.1)) m.mentions.push_back(rng.pick(authors_));
        double l = rng.uniform();
        m.language = l < 0.65 ? "en" : l < 0.8 ? "fr" : l < 0.9 ? "fr-FR" : "de";
        m.level = s.level;
        m.created_at_ms = 1700000000000 + static_cast<int64_t>(i) * 1000;
        m.received_at_ms = m.created_at_ms + 120;
        m.trace = {m.source};
        out.push_back(std::move(m));
    }
    return out;
}

std::string baseline_pattern(const RouteTable &table) {
    std::string keywords, regexes;
    for (const auto &r : table.routes) {
        for (const auto &k : r.when.keywords) keywords += (keywords.empty() ? "" : "|") + RE2::QuoteMeta(k);
        for (const auto &re : r.when.regexes) regexes += "|(?:" + re->pattern() + ")";
    }
    return "(?i:\\b(?:" + keywords + ")\\b)" + regexes;
}

} // namespace relais::bench
