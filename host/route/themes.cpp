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
        route.from = resolve_endpoints(theme.from, theme.node["from"], where + " from", table.instances,
                                       RELAIS_CAP_SOURCE, "emit messages", diags);
        for (const auto &k : theme.keywords) {
            if (k.empty()) diags.error(theme.node["keywords"], where + " keywords: an empty keyword matches nothing");
            else route.when.keywords.push_back(ascii_lower(k));
        }
        for (const auto &l : theme.languages) route.when.languages.push_back(ascii_lower(l));

        Action relay;
        relay.type = Action::Type::relay;
        relay.to = resolve_endpoints(theme.to, theme.node["to"], where + " to", table.instances, RELAIS_CAP_SINK,
                                     "receive messages", diags);
        std::string error;
        relay.tmpl = Template::compile(theme_template(theme), error);
        if (!relay.tmpl) diags.error(theme.node, where + ": " + error);
        route.actions.push_back(std::move(relay));
        table.routes.push_back(std::move(route));
    }
}

} // namespace relais
