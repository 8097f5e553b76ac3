#include "route/rules.hpp"

#include <relais/plugin.h>

#include <algorithm>

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
        if (!node["do"]) diags_.error(node, where + " has no do: list (relay, archive, drop, tag or stop)");
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
        std::vector<Endpoint> out;
        if (!read_string_list(node, what, items, diags_)) return out;
        for (size_t i = 0; i < items.size(); ++i) {
            const YAML::Node at = node.IsSequence() ? node[i] : node;
            const std::string &s = items[i];
            Endpoint e;
            auto slash = s.find('/');
            e.instance = s.substr(0, slash);
            if (slash != std::string::npos) e.channel = s.substr(slash + 1);
            const InstanceFacts *inst = find(e.instance);
            if (!inst) {
                diags_.error(at, what + ": unknown plugin instance '" + e.instance + "'" +
                                     suggestion(e.instance, ids_of(instances_)));
                continue;
            }
            if (!(inst->capabilities & capability)) {
                diags_.error(at, what + ": instance '" + e.instance + "' (plugin " + inst->plugin + ") cannot " +
                                     ability);
                continue;
            }
            out.push_back(std::move(e));
        }
        return out;
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
        static const std::vector<std::string> names{"relay", "archive", "drop", "tag", "stop"};
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
            if (name == "relay") {
                a.type = Action::Type::relay;
                if (!arg || arg.IsNull()) {
                    diags_.error(at, where + " relay: needs a destination (relay: {to: instance/channel})");
                    continue;
                }
                if (arg.IsMap()) {
                    check_keys(arg, {"to", "template", "as_level"}, where + " relay", diags_);
                    if (!arg["to"]) diags_.error(arg, where + " relay: needs to: (an instance or instance/channel)");
                    else a.to = endpoints(arg["to"], where + " relay to", RELAIS_CAP_SINK, "receive messages");
                    if (arg["template"]) a.tmpl = template_value(arg["template"], where + " relay template");
                    if (arg["as_level"]) a.as_level = level_value(arg["as_level"], where + " relay as_level");
                } else {
                    a.to = endpoints(arg, where + " relay to", RELAIS_CAP_SINK, "receive messages");
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
                                     "; actions are relay, archive, drop, tag, stop");
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
    if (!config.routes || !config.routes.IsSequence()) return table;
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
    return table;
}

} // namespace relais
