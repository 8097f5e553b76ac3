#include "route/match_index.hpp"
#include "route/rules.hpp"
#include "route/themes.hpp"

#include <relais/plugin.h>

#include <re2/filtered_re2.h>

#include <algorithm>
#include <unordered_map>

namespace relais {

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool Conditions::empty() const {
    return kinds.empty() && channels.empty() && authors.empty() && tags_any.empty() && tags_all.empty() &&
           mentions_any.empty() && keywords.empty() && regexes.empty() && languages.empty() && levels.empty();
}

const InstanceFacts *RouteTable::instance(const std::string &id) const {
    for (const auto &i : instances)
        if (i.id == id) return &i;
    return nullptr;
}

namespace {

std::vector<std::string> ids_of(const std::vector<InstanceFacts> &instances) {
    std::vector<std::string> ids;
    for (const auto &i : instances) ids.push_back(i.id);
    return ids;
}

} // namespace

std::vector<Endpoint> resolve_endpoints(const std::vector<std::string> &items, const YAML::Node &node,
                                        const std::string &what, const std::vector<InstanceFacts> &instances,
                                        uint32_t capability, const char *ability, Diagnostics &diags) {
    std::vector<Endpoint> out;
    for (size_t i = 0; i < items.size(); ++i) {
        const YAML::Node at = node.IsSequence() && i < node.size() ? node[i] : node;
        Endpoint e;
        auto slash = items[i].find('/');
        e.instance = items[i].substr(0, slash);
        if (slash != std::string::npos) e.channel = items[i].substr(slash + 1);
        auto inst = std::find_if(instances.begin(), instances.end(), [&](auto &f) { return f.id == e.instance; });
        if (inst == instances.end()) {
            diags.error(at, what + ": unknown plugin instance '" + e.instance + "'" +
                                suggestion(e.instance, ids_of(instances)));
            continue;
        }
        if (!(inst->capabilities & capability)) {
            diags.error(at, what + ": instance '" + e.instance + "' (plugin " + inst->plugin + ") cannot " + ability);
            continue;
        }
        out.push_back(std::move(e));
    }
    return out;
}

namespace {

std::string strip_prefix(std::string s, char prefix) {
    if (!s.empty() && s.front() == prefix) s.erase(0, 1);
    return s;
}

class RouteCompiler {
public:
    RouteCompiler(const std::vector<InstanceFacts> &instances, Diagnostics &diags)
        : instances_(instances), diags_(diags) {}

    std::optional<Route> compile(const YAML::Node &node, size_t index) {
        if (!node.IsMap()) {
            diags_.error(node, "routes: each route is a map with name, from, when and do");
            return std::nullopt;
        }
        Route route;
        route.line = node.Mark().line + 1;
        route.name = "route-" + std::to_string(index + 1);
        check_keys(node, {"name", "from", "when", "do"}, "a route", diags_);
        if (node["name"]) read_scalar(node["name"], "name", route.name, diags_);
        const std::string where = "route '" + route.name + "'";
        if (node["from"]) route.from = endpoints(node["from"], where + " from", RELAIS_CAP_SOURCE, "emit messages");
        if (node["when"]) route.when = conditions(node["when"], where);
        if (!node["do"]) diags_.error(node, where + " has no do: list (relay, hold, archive, drop, tag or stop)");
        else route.actions = actions(node["do"], where);
        check_can_match(node, route, where);
        return route;
    }

private:
    const InstanceFacts *find(const std::string &id) const {
        for (const auto &i : instances_)
            if (i.id == id) return &i;
        return nullptr;
    }

    std::vector<Endpoint> endpoints(const YAML::Node &node, const std::string &what, uint32_t capability,
                                    const char *ability) {
        std::vector<std::string> items;
        if (!read_string_list(node, what, items, diags_)) return {};
        return resolve_endpoints(items, node, what, instances_, capability, ability, diags_);
    }

    void lower_list(const YAML::Node &node, const std::string &what, std::vector<std::string> &out, char prefix) {
        std::vector<std::string> items;
        read_string_list(node, what, items, diags_);
        if (node.IsSequence() && node.size() == 0)
            diags_.error(node, what + ": an empty list can never match; remove the condition or add values");
        for (auto &s : items) out.push_back(ascii_lower(strip_prefix(s, prefix)));
    }

    Conditions conditions(const YAML::Node &node, const std::string &where) {
        Conditions c;
        if (!node.IsMap()) {
            diags_.error(node, where + " when: expected a map of conditions");
            return c;
        }
        static const std::vector<std::string> known{"kind", "channel", "author", "tags_any", "tags_all",
                                                    "mentions_any", "keywords", "regex", "language", "level"};
        check_keys(node, known, where + " when", diags_);
        if (const auto n = node["kind"]) {
            std::vector<std::string> kinds;
            read_string_list(n, where + " kind", kinds, diags_);
            for (const auto &k : kinds) {
                if (auto kind = parse_kind(k)) c.kinds.push_back(*kind);
                else
                    diags_.error(n, where + " kind: '" + k + "' is not one of post, reply, edit, delete, reaction" +
                                        suggestion(k, {"post", "reply", "edit", "delete", "reaction"}));
            }
        }
        if (const auto n = node["channel"]) read_string_list(n, where + " channel", c.channels, diags_);
        if (const auto n = node["author"]) lower_list(n, where + " author", c.authors, '@');
        if (const auto n = node["tags_any"]) lower_list(n, where + " tags_any", c.tags_any, '#');
        if (const auto n = node["tags_all"]) lower_list(n, where + " tags_all", c.tags_all, '#');
        if (const auto n = node["mentions_any"]) lower_list(n, where + " mentions_any", c.mentions_any, '@');
        if (const auto n = node["keywords"]) lower_list(n, where + " keywords", c.keywords, 0);
        if (const auto n = node["language"]) lower_list(n, where + " language", c.languages, 0);
        if (const auto n = node["regex"]) {
            std::vector<std::string> patterns;
            read_string_list(n, where + " regex", patterns, diags_);
            for (size_t i = 0; i < patterns.size(); ++i) {
                RE2::Options options;
                options.set_log_errors(false);
                auto re = std::make_shared<RE2>(patterns[i], options);
                if (!re->ok())
                    diags_.error(n.IsSequence() ? n[i] : n, where + " regex \"" + patterns[i] + "\": " + re->error() +
                                                                " (RE2 syntax: no backreferences or lookaround)");
                else c.regexes.push_back(std::move(re));
            }
        }
        if (const auto n = node["level"]) {
            std::vector<std::string> levels;
            read_string_list(n, where + " level", levels, diags_);
            for (const auto &l : levels) {
                if (auto level = parse_level(l)) c.levels.push_back(*level);
                else diags_.error(n, where + " level: '" + l + "' is not one of public, internal, confidential, secret");
            }
        }
        return c;
    }

    std::optional<Level> level_value(const YAML::Node &n, const std::string &what) {
        std::string s;
        if (!read_scalar(n, what, s, diags_)) return std::nullopt;
        auto l = parse_level(s);
        if (!l) diags_.error(n, what + ": '" + s + "' is not one of public, internal, confidential, secret");
        return l;
    }

    std::optional<Template> template_value(const YAML::Node &n, const std::string &what) {
        std::string text, error;
        if (!read_scalar(n, what, text, diags_)) return std::nullopt;
        auto t = Template::compile(text, error);
        if (!t) diags_.error(n, what + ": " + error);
        return t;
    }

    std::vector<Action> actions(const YAML::Node &node, const std::string &where) {
        std::vector<Action> out;
        if (!node.IsSequence()) {
            diags_.error(node, where + " do: expected a list of actions");
            return out;
        }
        static const std::vector<std::string> names{"relay", "hold", "archive", "drop", "tag", "stop"};
        for (const auto &item : node) {
            std::string name;
            YAML::Node arg;
            if (item.IsScalar()) name = item.Scalar();
            else if (item.IsMap() && item.size() == 1) {
                name = item.begin()->first.as<std::string>("");
                arg = item.begin()->second;
            } else {
                diags_.error(item, where + " do: each action is a name (drop) or a map of one name (relay: {...})");
                continue;
            }
            const YAML::Node at = item.IsMap() ? YAML::Node(item.begin()->first) : YAML::Node(item);
            Action a;
            if (name == "relay" || name == "hold") {
                // hold is a relay whose every message waits for approval.
                a.type = Action::Type::relay;
                a.hold = name == "hold";
                if (!arg || arg.IsNull()) {
                    diags_.error(at, where + " " + name + ": needs a destination (" + name + ": {to: instance/channel})");
                    continue;
                }
                if (arg.IsMap()) {
                    if (a.hold) check_keys(arg, {"to", "template", "as_level"}, where + " hold", diags_);
                    else check_keys(arg, {"to", "template", "as_level", "speakers"}, where + " relay", diags_);
                    if (!arg["to"])
                        diags_.error(arg, where + " " + name + ": needs to: (an instance or instance/channel)");
                    else a.to = endpoints(arg["to"], where + " " + name + " to", RELAIS_CAP_SINK, "receive messages");
                    if (arg["template"]) a.tmpl = template_value(arg["template"], where + " " + name + " template");
                    if (arg["as_level"]) a.as_level = level_value(arg["as_level"], where + " " + name + " as_level");
                    if (arg["speakers"]) lower_list(arg["speakers"], where + " relay speakers", a.speakers, '@');
                } else {
                    a.to = endpoints(arg, where + " " + name + " to", RELAIS_CAP_SINK, "receive messages");
                }
            } else if (name == "archive") {
                a.type = Action::Type::archive;
                if (arg && !arg.IsNull()) a.to = endpoints(arg, where + " archive", RELAIS_CAP_ARCHIVE, "archive");
                else {
                    for (const auto &i : instances_)
                        if (i.capabilities & RELAIS_CAP_ARCHIVE) a.to.push_back({i.id, {}});
                    if (a.to.empty())
                        diags_.error(at, where + " archive: no archive instance is configured (add a plugin "
                                                 "instance using archive-sqlite)");
                }
            } else if (name == "tag") {
                a.type = Action::Type::tag;
                if (!arg) diags_.error(at, where + " tag: needs the tags to add (tag: [a, b])");
                else lower_list(arg, where + " tag", a.tags, '#');
            } else if (name == "drop" || name == "stop") {
                a.type = name == "drop" ? Action::Type::drop : Action::Type::stop;
                if (arg && !arg.IsNull()) diags_.error(arg, where + " " + name + " takes no argument");
            } else {
                diags_.error(at, where + " do: unknown action '" + name + "'" + suggestion(name, names) +
                                     "; actions are relay, hold, archive, drop, tag, stop");
                continue;
            }
            out.push_back(std::move(a));
        }
        return out;
    }

    // A route whose conditions contradict what its sources can ever produce would silently do nothing.
    void check_can_match(const YAML::Node &node, const Route &route, const std::string &where) {
        if (route.actions.empty() && node["do"] && node["do"].IsSequence())
            diags_.error(node["do"], where + " has an empty do: list, so it does nothing");
        for (const auto &from : route.from) {
            if (from.channel.empty() || route.when.channels.empty()) continue;
            if (std::find(route.when.channels.begin(), route.when.channels.end(), from.channel) ==
                route.when.channels.end())
                diags_.error(node["when"]["channel"], where + " can never match: it takes only channel '" +
                                                          from.channel + "' from " + from.instance +
                                                          " but requires another channel");
        }
    }

    const std::vector<InstanceFacts> &instances_;
    Diagnostics &diags_;
};

} // namespace

RouteTable compile_routes(const Config &config, std::vector<InstanceFacts> instances, Diagnostics &diags) {
    RouteTable table;
    table.instances = std::move(instances);
    if (!config.routes || !config.routes.IsSequence()) {
        compile_themes(config, table, diags); // watch themes: route/themes.cpp
        return table;
    }
    RouteCompiler compiler(table.instances, diags);
    std::vector<std::string> names;
    for (size_t i = 0; i < config.routes.size(); ++i) {
        auto route = compiler.compile(config.routes[i], i);
        if (!route) continue;
        if (std::find(names.begin(), names.end(), route->name) != names.end())
            diags.error(config.routes[i]["name"], "route name '" + route->name + "' is used twice");
        names.push_back(route->name);
        table.routes.push_back(std::move(*route));
    }
    compile_themes(config, table, diags); // watch themes, after the routes: route/themes.cpp
    return table;
}

// The match index: the compiled form of the routes' conditions that Router::route reads (see match_index.hpp).

uint32_t StringIds::add(std::string_view s) {
    uint64_t h = hash(s);
    if (uint32_t id = find(s, h); id != no_id) return id;
    if ((strings_.size() + 1) * 2 > slots_.size()) rehash(std::max<size_t>(16, slots_.size() * 2));
    auto id = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
    size_t i = h & mask_;
    while (slots_[i].id != no_id) i = (i + 1) & mask_;
    slots_[i] = Slot{h, id};
    return id;
}

void StringIds::rehash(size_t capacity) {
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (uint32_t id = 0; id < strings_.size(); ++id) {
        uint64_t h = hash(strings_[id]);
        size_t i = h & mask_;
        while (slots_[i].id != no_id) i = (i + 1) & mask_;
        slots_[i] = Slot{h, id};
    }
}

void Substrings::add(std::string_view s, uint32_t id) {
    if (s.empty()) return;
    Entry e{0, id, std::string(s)};
    if (s.size() == 1 && single_.size() < 64) {
        single_bits_[static_cast<unsigned char>(s[0])] |= uint64_t{1} << single_.size();
        single_.push_back(std::move(e));
        return;
    }
    if (s.size() < 3) {
        pairs_.push_back(std::move(e));
        return;
    }
    e.first3 = static_cast<unsigned char>(s[0]) | uint32_t{static_cast<unsigned char>(s[1])} << 8 |
               uint32_t{static_cast<unsigned char>(s[2])} << 16;
    entries_.push_back(std::move(e));
}

void Substrings::build() {
    std::sort(entries_.begin(), entries_.end(), [](const Entry &a, const Entry &b) { return a.first3 < b.first3; });
    filter_.assign(65536 / 64, 0);
    for (const auto &e : entries_) {
        uint32_t h = slot(e.first3);
        filter_[h >> 6] |= uint64_t{1} << (h & 63);
    }
}

namespace {

// What a regex cannot match without, as clauses of strings (lower-cased): it can match a text only if the text
// holds, for every clause, one of the clause's strings. RE2's FilteredRE2 works out the strings and an AND/OR
// formula over them; the clauses are what that formula implies: each string it cannot do without, then all the
// others together. None when there is nothing to rely on (the regex then runs whenever a route asks).
// Strings with non-ASCII bytes are not relied on: RE2 lower-cases them with Unicode rules that a byte-wise
// lower-casing of the text would not follow.
std::vector<std::vector<std::string>> required_literals(const RE2 &re) {
    re2::FilteredRE2 filter(1);
    int id = 0;
    if (filter.Add(re.pattern(), re.options(), &id) != RE2::NoError) return {};
    std::vector<std::string> atoms;
    filter.Compile(&atoms);
    if (atoms.empty()) return {};
    for (const auto &a : atoms)
        if (a.empty() || std::any_of(a.begin(), a.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
            return {};
    auto passes = [&](const std::vector<int> &present) {
        std::vector<int> regexps;
        filter.AllPotentials(present, &regexps);
        return !regexps.empty();
    };
    std::vector<int> all(atoms.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    if (!passes(all)) return {};
    std::vector<std::vector<std::string>> clauses;
    std::vector<int> needed, others;
    for (int j : all) {
        std::vector<int> without = all;
        without.erase(without.begin() + j);
        if (!passes(without)) {
            clauses.push_back({atoms[j]});
            needed.push_back(j);
        } else {
            others.push_back(j);
        }
    }
    if (!others.empty() && !passes(needed)) {
        clauses.emplace_back();
        for (int j : others) clauses.back().push_back(atoms[j]);
    }
    return clauses;
}

} // namespace

MatchIndex::MatchIndex(const RouteTable &table) {
    const size_t n = table.routes.size();
    routes.resize(n);
    bitset_words = (n + 63) / 64;
    always.assign(bitset_words, 0);

    std::unordered_map<std::string, uint32_t> keyword_ids, regex_ids, literal_ids;
    std::string plain_scratch;
    auto keyword_id = [&](const std::string &written) {
        const std::string k(plain_punctuation(written, plain_scratch)); // as the text will be: see match_index.hpp
        auto [it, fresh] = keyword_ids.try_emplace(k, static_cast<uint32_t>(keywords.size()));
        if (!fresh) return it->second;
        keywords.push_back(Keyword{k, false, {}});
        // Every word of a keyword found on word boundaries is a whole word of the text: looking up the longest
        // one tells when the keyword may be there.
        std::string_view longest;
        for (size_t i = 0; i < k.size();) {
            if (!is_word_byte(static_cast<unsigned char>(k[i]))) {
                ++i;
                continue;
            }
            size_t j = i;
            while (j < k.size() && is_word_byte(static_cast<unsigned char>(k[j]))) ++j;
            if (j - i > longest.size()) longest = std::string_view(k).substr(i, j - i);
            i = j;
        }
        if (longest.empty()) {
            wordless_keywords.push_back(it->second);
        } else {
            uint32_t w = words.add(longest);
            uint32_t shape = word_shape(longest.data(), longest.size());
            word_shapes[shape >> 6] |= uint64_t{1} << (shape & 63);
            if (word_keys.size() < words.size()) word_keys.resize(words.size());
            word_keys[w].push_back(it->second);
            keywords.back().one_word = longest.size() == k.size();
        }
        return it->second;
    };
    auto regex_id = [&](const std::shared_ptr<RE2> &re) {
        auto [it, fresh] = regex_ids.try_emplace(re->pattern(), static_cast<uint32_t>(regexes.size()));
        if (!fresh) return it->second;
        auto clauses = required_literals(*re);
        regexes.push_back(Regex{re, clauses.empty(), {}, {}});
        for (const auto &clause : clauses) {
            regexes.back().clauses.emplace_back();
            for (const auto &l : clause) {
                auto [lit, new_literal] = literal_ids.try_emplace(l, static_cast<uint32_t>(literal_regexes.size()));
                if (new_literal) {
                    literals.add(l, lit->second);
                    literal_regexes.emplace_back();
                }
                regexes.back().clauses.back().push_back(lit->second);
                auto &users = literal_regexes[lit->second];
                if (users.empty() || users.back() != it->second) users.push_back(it->second);
            }
        }
        return it->second;
    };

    for (size_t r = 0; r < n; ++r) {
        const Conditions &c = table.routes[r].when;
        RouteKeys &k = routes[r];
        for (const auto &x : c.keywords) k.keywords.push_back(keyword_id(x));
        for (const auto &x : c.tags_any) k.tags_any.push_back(tags.add(x));
        for (const auto &x : c.tags_all) k.tags_all.push_back(tags.add(x));
        for (const auto &x : c.mentions_any) k.mentions.push_back(mentions.add(x));
        for (const auto &x : c.regexes) k.regexes.push_back(regex_id(x));
        for (const auto &a : table.routes[r].actions)
            for (const auto &t : a.tags) tags.add(t);
    }
    literals.build();
    tag_routes.resize(tags.size());
    mention_routes.resize(mentions.size());

    // Each route's gate: one condition it cannot match without, the most telling first.
    for (size_t r = 0; r < n; ++r) {
        const RouteKeys &k = routes[r];
        auto id = static_cast<uint32_t>(r);
        auto anchored = [&](uint32_t kw) {
            return std::find(wordless_keywords.begin(), wordless_keywords.end(), kw) == wordless_keywords.end();
        };
        auto regex_gated = [&](uint32_t re) { return !regexes[re].always; };
        if (!k.keywords.empty() && std::all_of(k.keywords.begin(), k.keywords.end(), anchored)) {
            for (uint32_t kw : k.keywords) keywords[kw].routes.push_back(id);
        } else if (!k.tags_all.empty()) {
            tag_routes[k.tags_all.front()].push_back(id);
        } else if (!k.tags_any.empty()) {
            for (uint32_t t : k.tags_any) tag_routes[t].push_back(id);
        } else if (!k.mentions.empty()) {
            for (uint32_t m : k.mentions) mention_routes[m].push_back(id);
        } else if (!k.regexes.empty() && std::all_of(k.regexes.begin(), k.regexes.end(), regex_gated)) {
            for (uint32_t re : k.regexes) regexes[re].routes.push_back(id);
        } else {
            always[r / 64] |= uint64_t{1} << (r % 64);
        }
    }
}

} // namespace relais
