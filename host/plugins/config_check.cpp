#include "plugins/config_check.hpp"

#include <relais/plugin.hpp>

namespace relais {

namespace {

const char *type_name(int32_t type) {
    switch (type) {
    case RELAIS_CONFIG_STRING: return "a string";
    case RELAIS_CONFIG_INT: return "a whole number";
    case RELAIS_CONFIG_BOOL: return "true or false";
    case RELAIS_CONFIG_DOUBLE: return "a number";
    case RELAIS_CONFIG_DURATION: return "a duration (500ms, 30s, 5m, 1h)";
    case RELAIS_CONFIG_LIST: return "a list";
    case RELAIS_CONFIG_MAP: return "a map";
    case RELAIS_CONFIG_STRING_LIST: return "a value or a list of values";
    }
    return "a value";
}

bool scalar_fits(int32_t type, const std::string &v) {
    try {
        size_t used = 0;
        switch (type) {
        case RELAIS_CONFIG_INT: (void)std::stoll(v, &used); return used == v.size();
        case RELAIS_CONFIG_DOUBLE: (void)std::stod(v, &used); return used == v.size();
        case RELAIS_CONFIG_BOOL: return v == "true" || v == "false" || v == "yes" || v == "no" || v == "on" || v == "off";
        case RELAIS_CONFIG_DURATION: return parse_duration_ms(v).has_value();
        default: return true;
        }
    } catch (const std::exception &) {
        return false;
    }
}

} // namespace

void check_plugin_config(const LoadedPlugin &plugin, const InstanceConfig &instance, Diagnostics &diags) {
    const auto keys = plugin.config_keys();
    std::vector<std::string> names;
    for (const auto *k : keys) names.push_back(k->name ? k->name : "");
    const std::string where = "config of '" + instance.id + "' (plugin " + plugin.name + ")";
    const YAML::Node &config = instance.config;

    if (config && config.IsMap()) {
        for (auto it = config.begin(); it != config.end(); ++it) {
            const std::string key = it->first.as<std::string>("");
            const relais_config_key *decl = nullptr;
            for (const auto *k : keys)
                if (k->name && key == k->name) decl = k;
            if (!decl) {
                diags.error(it->first, "unknown key '" + key + "' in " + where + suggestion(key, names) +
                                           (names.empty() ? "; this plugin takes no keys" : ""));
                continue;
            }
            const YAML::Node value = it->second;
            const int32_t type = decl->type;
            bool ok = true;
            if (type == RELAIS_CONFIG_LIST) ok = value.IsSequence();
            else if (type == RELAIS_CONFIG_MAP) ok = value.IsMap();
            else if (type == RELAIS_CONFIG_STRING_LIST) {
                ok = value.IsScalar() || value.IsSequence();
                if (value.IsSequence())
                    for (const auto &item : value) ok = ok && item.IsScalar();
            } else if (!value.IsScalar()) {
                ok = false;
            } else {
                std::string expanded, error;
                if (!expand_references(value.Scalar(), expanded, error)) {
                    diags.error(value, key + ": " + error);
                    continue;
                }
                ok = scalar_fits(type, expanded);
            }
            if (!ok) diags.error(value, key + ": expected " + type_name(type) + " in " + where);
        }
    }
    for (const auto *k : keys) {
        if (!k->required || !k->name) continue;
        bool present = config && config.IsMap() && config[k->name];
        if (!present)
            diags.error(config && config.IsMap() ? config : instance.node,
                        where + " needs '" + k->name + "'" + (k->description ? std::string(": ") + k->description : ""));
    }
}

void report_plugin_error(const PluginInstance &instance, const std::string &error, Diagnostics &diags) {
    // "feeds.1.url: not a URL" → at feeds.1.url when that path exists.
    auto colon = error.find(": ");
    if (colon != std::string::npos && error.find(' ') > colon) {
        YAML::Node at = instance.config_node(error.substr(0, colon));
        if (at.IsDefined() && !at.Mark().is_null()) {
            diags.error(at, "instance '" + instance.id() + "': " + error);
            return;
        }
    }
    const YAML::Node &c = instance.config().config;
    diags.error(c && !c.IsNull() ? c : instance.config().node, "instance '" + instance.id() + "': " + error);
}

} // namespace relais
