// Watch themes → routes. A theme comes after every configured route, so a route that drops or stops a message
// keeps it from the themes too; the themes themselves only relay, so several themes can match one item.
#include "route/themes.hpp"

#include <relais/plugin.h>

#include <algorithm>

namespace relais {
namespace {

std::string escape_braces(const std::string &s) {
    std::string out;
    for (char c : s) {
        out += c;
        if (c == '{' || c == '}') out += c; // "{{" and "}}" are literal braces in a template
    }
    return out;
}

std::vector<std::string> ids_of(const std::vector<InstanceFacts> &instances) {
    std::vector<std::string> ids;
    for (const auto &i : instances) ids.push_back(i.id);
    return ids;
}

// "instance" or "instance/channel" → an endpoint of an instance that has `capability`; nullopt (with a
// diagnostic) otherwise. `at` is the node the text came from.
std::optional<Endpoint> endpoint(const std::string &text, const YAML::Node &at, const std::string &what,
                                 const RouteTable &table, uint32_t capability, const char *ability,
                                 Diagnostics &diags) {
    Endpoint e;
    auto slash = text.find('/');
    e.instance = text.substr(0, slash);
    if (slash != std::string::npos) e.channel = text.substr(slash + 1);
    const InstanceFacts *inst = table.instance(e.instance);
    if (!inst) {
        diags.error(at, what + ": unknown plugin instance '" + e.instance + "'" +
                            suggestion(e.instance, ids_of(table.instances)));
        return std::nullopt;
    }
    if (!(inst->capabilities & capability)) {
        diags.error(at, what + ": instance '" + e.instance + "' (plugin " + inst->plugin + ") cannot " + ability);
        return std::nullopt;
    }
    return e;
}

std::vector<Endpoint> endpoints(const std::vector<std::string> &items, const YAML::Node &node,
                                const std::string &what, const RouteTable &table, uint32_t capability,
                                const char *ability, Diagnostics &diags) {
    std::vector<Endpoint> out;
    for (size_t i = 0; i < items.size(); ++i) {
        const YAML::Node at = node.IsSequence() && i < node.size() ? node[i] : node;
        if (auto e = endpoint(items[i], at, what, table, capability, ability, diags)) out.push_back(std::move(*e));
    }
    return out;
}

} // namespace

std::string theme_template(const Theme &theme) {
    std::string owner = theme.owner;
    if (!owner.empty() && owner.front() != '@') owner.insert(owner.begin(), '@');
    std::string head = owner.empty() ? "" : escape_braces(owner) + " ";
    return head + "[" + escape_braces(theme.name) + "] {text} {link}";
}

void compile_themes(const Config &config, RouteTable &table, Diagnostics &diags) {
    for (const Theme &theme : config.themes) {
        const std::string where = "theme '" + theme.name + "'";
        Route route;
        route.name = "theme:" + theme.name;
        route.line = theme.node.Mark().line + 1;
        if (std::any_of(table.routes.begin(), table.routes.end(), [&](const Route &r) { return r.name == route.name; }))
            diags.error(theme.node, where + ": a route is already named '" + route.name +
                                                "'; rename the route or the theme");
        route.from = endpoints(theme.from, theme.node["from"], where + " from", table, RELAIS_CAP_SOURCE,
                               "emit messages", diags);
        for (const auto &k : theme.keywords) {
            if (k.empty()) diags.error(theme.node["keywords"], where + " keywords: an empty keyword matches nothing");
            else route.when.keywords.push_back(ascii_lower(k));
        }
        for (const auto &l : theme.languages) route.when.languages.push_back(ascii_lower(l));

        Action relay;
        relay.type = Action::Type::relay;
        relay.to = endpoints(theme.to, theme.node["to"], where + " to", table, RELAIS_CAP_SINK, "receive messages",
                             diags);
        std::string error;
        relay.tmpl = Template::compile(theme_template(theme), error);
        if (!relay.tmpl) diags.error(theme.node, where + ": " + error);
        route.actions.push_back(std::move(relay));
        table.routes.push_back(std::move(route));
    }
}

} // namespace relais
