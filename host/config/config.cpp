#include "config/config.hpp"

#include "core/utf8.hpp"

#include <relais/plugin.hpp> // parse_duration_ms

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace relais {

const InstanceConfig *Config::instance(const std::string &id) const {
    for (const auto &i : instances)
        if (i.id == id) return &i;
    return nullptr;
}

std::vector<std::string> Config::instance_ids() const {
    std::vector<std::string> ids;
    for (const auto &i : instances) ids.push_back(i.id);
    return ids;
}

bool expand_references(const std::string &in, std::string &out, std::string &error) {
    out.clear();
    size_t i = 0;
    while (i < in.size()) {
        if (in.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
            continue;
        }
        if (in.compare(i, 2, "${") != 0) {
            out += in[i++];
            continue;
        }
        size_t end = in.find('}', i);
        if (end == std::string::npos) {
            error = "unclosed ${ in \"" + in + "\" (write $${ for a literal ${)";
            return false;
        }
        std::string ref = in.substr(i + 2, end - i - 2);
        if (ref.rfind("env:", 0) == 0) {
            std::string name = ref.substr(4);
            const char *value = std::getenv(name.c_str());
            if (!value) {
                error = "environment variable " + name + " is not set (referenced as ${" + ref + "})";
                return false;
            }
            out += value;
        } else if (ref.rfind("file:", 0) == 0) {
            std::string path = ref.substr(5);
            std::ifstream f(path, std::ios::binary);
            if (!f) {
                error = "cannot read " + path + " (referenced as ${" + ref + "})";
                return false;
            }
            std::stringstream ss;
            ss << f.rdbuf();
            std::string content = ss.str();
            while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
            out += content;
        } else {
            error = "unknown reference ${" + ref + "}: use ${env:NAME} or ${file:PATH}";
            return false;
        }
        i = end + 1;
    }
    return true;
}

bool read_scalar(const YAML::Node &node, const std::string &what, std::string &out, Diagnostics &diags) {
    if (!node.IsScalar()) {
        diags.error(node, what + ": expected a single value");
        return false;
    }
    std::string error;
    if (!expand_references(node.Scalar(), out, error)) {
        diags.error(node, what + ": " + error);
        return false;
    }
    return true;
}

bool read_string_list(const YAML::Node &node, const std::string &what, std::vector<std::string> &out,
                      Diagnostics &diags) {
    out.clear();
    if (node.IsScalar()) {
        std::string s;
        if (!read_scalar(node, what, s, diags)) return false;
        out.push_back(s);
        return true;
    }
    if (!node.IsSequence()) {
        diags.error(node, what + ": expected a value or a list of values");
        return false;
    }
    bool ok = true;
    for (const auto &item : node) {
        std::string s;
        if (read_scalar(item, what, s, diags)) out.push_back(s);
        else ok = false;
    }
    return ok;
}

void check_keys(const YAML::Node &map, const std::vector<std::string> &known, const std::string &where,
                Diagnostics &diags) {
    for (auto it = map.begin(); it != map.end(); ++it) {
        std::string key = it->first.as<std::string>("");
        if (std::find(known.begin(), known.end(), key) == known.end())
            diags.error(it->first, "unknown key '" + key + "' in " + where + suggestion(key, known));
    }
}

namespace {

bool valid_id(const std::string &id) {
    static const std::regex pattern("[a-z0-9][a-z0-9_-]*");
    return std::regex_match(id, pattern);
}

void parse_duration(const YAML::Node &node, const std::string &what, std::chrono::milliseconds &out,
                    Diagnostics &diags) {
    std::string s;
    if (!read_scalar(node, what, s, diags)) return;
    auto ms = parse_duration_ms(s);
    if (!ms) diags.error(node, what + ": \"" + s + "\" is not a duration (write 500ms, 30s, 5m, 1h or 7d)");
    else out = std::chrono::milliseconds(*ms);
}

void parse_host(const YAML::Node &node, HostSettings &host, Diagnostics &diags) {
    if (!node.IsMap()) {
        diags.error(node, "host: expected a map of settings");
        return;
    }
    check_keys(node, {"data_dir", "plugin_path", "log", "admin", "delivery"}, "host", diags);
    if (node["data_dir"]) read_scalar(node["data_dir"], "host.data_dir", host.data_dir, diags);
    if (node["plugin_path"]) read_string_list(node["plugin_path"], "host.plugin_path", host.plugin_path, diags);
    if (const auto log = node["log"]) {
        if (!log.IsMap()) diags.error(log, "host.log: expected a map with level and format");
        else {
            check_keys(log, {"level", "format"}, "host.log", diags);
            if (log["level"] && read_scalar(log["level"], "host.log.level", host.log_level, diags)) {
                static const std::vector<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
                if (std::find(levels.begin(), levels.end(), host.log_level) == levels.end())
                    diags.error(log["level"], "host.log.level: '" + host.log_level +
                                                  "' is not one of trace, debug, info, warn, error, off" +
                                                  suggestion(host.log_level, levels));
            }
            if (log["format"] && read_scalar(log["format"], "host.log.format", host.log_format, diags) &&
                host.log_format != "text" && host.log_format != "json")
                diags.error(log["format"], "host.log.format: '" + host.log_format + "' is not text or json");
        }
    }
    if (const auto admin = node["admin"]) {
        if (!admin.IsMap()) diags.error(admin, "host.admin: expected a map with enabled and listen");
        else {
            check_keys(admin, {"enabled", "listen"}, "host.admin", diags);
            if (admin["enabled"]) {
                std::string s;
                if (read_scalar(admin["enabled"], "host.admin.enabled", s, diags)) {
                    if (s == "true") host.admin_enabled = true;
                    else if (s == "false") host.admin_enabled = false;
                    else diags.error(admin["enabled"], "host.admin.enabled: expected true or false");
                }
            }
            std::string listen;
            if (admin["listen"] && read_scalar(admin["listen"], "host.admin.listen", listen, diags)) {
                auto colon = listen.rfind(':');
                int port = -1;
                if (colon != std::string::npos) {
                    try {
                        port = std::stoi(listen.substr(colon + 1));
                    } catch (...) {
                    }
                }
                if (colon == std::string::npos || port < 0 || port > 65535)
                    diags.error(admin["listen"],
                                "host.admin.listen: expected HOST:PORT such as 127.0.0.1:8080 (port 0 picks a free one)");
                else {
                    host.admin_host = listen.substr(0, colon);
                    host.admin_port = static_cast<uint16_t>(port);
                }
            }
        }
    }
    if (const auto d = node["delivery"]) {
        if (!d.IsMap()) diags.error(d, "host.delivery: expected a map");
        else {
            check_keys(d, {"max_attempts", "retry_backoff", "retry_max_backoff", "fsync", "dedupe_window",
                           "id_map_retention"},
                       "host.delivery", diags);
            if (d["fsync"]) {
                std::string s;
                if (read_scalar(d["fsync"], "host.delivery.fsync", s, diags)) {
                    if (s == "true" || s == "false") host.fsync = s == "true";
                    else diags.error(d["fsync"], "host.delivery.fsync: expected true or false");
                }
            }
            if (d["dedupe_window"])
                parse_duration(d["dedupe_window"], "host.delivery.dedupe_window", host.dedupe_window, diags);
            if (d["id_map_retention"])
                parse_duration(d["id_map_retention"], "host.delivery.id_map_retention", host.id_map_retention, diags);
            if (d["max_attempts"]) {
                std::string s;
                if (read_scalar(d["max_attempts"], "host.delivery.max_attempts", s, diags)) {
                    try {
                        host.max_attempts = static_cast<uint32_t>(std::stoul(s));
                    } catch (...) {
                        diags.error(d["max_attempts"], "host.delivery.max_attempts: expected a whole number");
                    }
                }
            }
            if (d["retry_backoff"])
                parse_duration(d["retry_backoff"], "host.delivery.retry_backoff", host.retry_backoff, diags);
            if (d["retry_max_backoff"])
                parse_duration(d["retry_max_backoff"], "host.delivery.retry_max_backoff", host.retry_max_backoff,
                               diags);
        }
    }
}

void parse_instances(const YAML::Node &node, Config &config, Diagnostics &diags) {
    if (!node.IsSequence()) {
        diags.error(node, "plugins: expected a list of plugin instances (- id: …, use: …)");
        return;
    }
    std::set<std::string> seen;
    for (const YAML::Node &entry : node) {
        if (!entry.IsMap()) {
            diags.error(entry, "plugins: each instance is a map with id, use, level and config");
            continue;
        }
        check_keys(entry, {"id", "use", "level", "template", "dedupe", "isolate", "config"}, "a plugin instance", diags);
        InstanceConfig inst;
        inst.node = entry;
        if (!entry["id"]) diags.error(entry, "plugin instance without an id (add id: a-name)");
        else if (read_scalar(entry["id"], "id", inst.id, diags)) {
            if (!valid_id(inst.id))
                diags.error(entry["id"], "id '" + inst.id + "': use lower-case letters, digits, - and _");
            else if (!seen.insert(inst.id).second)
                diags.error(entry["id"], "id '" + inst.id + "' is used by another instance already");
        }
        if (!entry["use"]) diags.error(entry, "plugin instance '" + inst.id + "' without use: (the plugin's name)");
        else read_scalar(entry["use"], "use", inst.use, diags);
        if (entry["level"]) {
            std::string s;
            if (read_scalar(entry["level"], "level", s, diags)) {
                inst.level = parse_level(s);
                if (!inst.level)
                    diags.error(entry["level"], "level '" + s + "' is not one of public, internal, confidential, secret" +
                                                    suggestion(s, {"public", "internal", "confidential", "secret"}));
            }
        }
        if (entry["template"]) read_scalar(entry["template"], "template", inst.template_text, diags);
        if (entry["dedupe"] && read_scalar(entry["dedupe"], "dedupe", inst.dedupe, diags) &&
            inst.dedupe != "native_id" && inst.dedupe != "content" && inst.dedupe != "off")
            diags.error(entry["dedupe"], "dedupe '" + inst.dedupe + "' is not one of native_id, content, off");
        if (entry["isolate"]) {
            std::string s;
            if (read_scalar(entry["isolate"], "isolate", s, diags)) {
                if (s == "true" || s == "yes" || s == "on") inst.isolate = true;
                else if (s != "false" && s != "no" && s != "off")
                    diags.error(entry["isolate"], "isolate '" + s + "': write true (run the plugin in its own process) or false");
            }
        }
        if (entry["config"]) {
            inst.config = entry["config"];
            if (!inst.config.IsMap() && !inst.config.IsNull())
                diags.error(inst.config, "config of '" + inst.id + "': expected a map of the plugin's keys");
        }
        config.instances.push_back(std::move(inst));
    }
}

void parse_themes(const YAML::Node &node, Config &config, Diagnostics &diags) {
    if (!node.IsSequence()) {
        diags.error(node, "themes: expected a list of themes (- name: …, keywords: […], to: instance/channel)");
        return;
    }
    std::set<std::string> seen;
    for (const YAML::Node &entry : node) {
        if (!entry.IsMap()) {
            diags.error(entry, "themes: each theme is a map with name, keywords, language, from, to and owner");
            continue;
        }
        Theme theme;
        theme.node = entry;
        if (!entry["name"]) diags.error(entry, "theme without a name (add name: a-name)");
        else if (read_scalar(entry["name"], "theme name", theme.name, diags)) {
            if (theme.name.empty()) diags.error(entry["name"], "theme name: is empty; give the theme a name");
            else if (!seen.insert(theme.name).second)
                diags.error(entry["name"], "theme name '" + theme.name + "' is used by another theme already");
        }
        const std::string where = "theme '" + theme.name + "'";
        check_keys(entry, {"name", "keywords", "language", "from", "to", "owner"}, where, diags);
        if (!entry["keywords"])
            diags.error(entry, where + " has no keywords: (the words or phrases it watches for)");
        else if (read_string_list(entry["keywords"], where + " keywords", theme.keywords, diags) &&
                 theme.keywords.empty())
            diags.error(entry["keywords"], where + " keywords: an empty list can never match; add words or phrases");
        if (entry["language"]) read_string_list(entry["language"], where + " language", theme.languages, diags);
        if (entry["from"]) read_string_list(entry["from"], where + " from", theme.from, diags);
        if (!entry["to"]) diags.error(entry, where + " has no to: (the room it relays to, as instance/channel)");
        else if (read_string_list(entry["to"], where + " to", theme.to, diags) && theme.to.empty())
            diags.error(entry["to"], where + " to: an empty list relays nowhere; name the theme's room");
        if (entry["owner"]) read_scalar(entry["owner"], where + " owner", theme.owner, diags);
        config.themes.push_back(std::move(theme));
    }
}

// The line and column (in characters) of a byte offset, for a diagnostic outside YAML's own.
YAML::Mark mark_at(const std::string &text, size_t offset) {
    const auto at = text.begin() + static_cast<std::ptrdiff_t>(offset);
    const size_t newline = offset == 0 ? std::string::npos : text.rfind('\n', offset - 1);
    const auto line_start =
        newline == std::string::npos ? text.begin() : text.begin() + static_cast<std::ptrdiff_t>(newline + 1);
    YAML::Mark mark;
    mark.pos = static_cast<int>(offset);
    mark.line = static_cast<int>(std::count(text.begin(), at, '\n'));
    mark.column = static_cast<int>(
        std::count_if(line_start, at, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    return mark;
}

} // namespace

Config parse_config(const std::string &text, const std::string &file, Diagnostics &diags) {
    Config config;
    config.file = file;
    // Names and templates would reach the networks and the JSON of the admin API as they are: refuse the file.
    if (size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
        diags.error(mark_at(text, bad), std::string("the file is not UTF-8 (a byte ") + byte +
                                            " here): save it as UTF-8; an editor's \"ANSI\" or Latin-1 encoding "
                                            "writes accented letters this way");
        return config;
    }
    try {
        config.root = YAML::Load(text);
    } catch (const YAML::ParserException &e) {
        diags.error(e.mark, "YAML syntax: " + e.msg);
        return config;
    }
    const YAML::Node &root = config.root;
    if (!root.IsMap()) {
        diags.error(root, "the configuration must be a map with host, plugins and routes");
        return config;
    }
    check_keys(root, {"host", "plugins", "routes", "themes"}, "the configuration", diags);
    if (root["host"]) parse_host(root["host"], config.host, diags);
    if (root["plugins"]) parse_instances(root["plugins"], config, diags);
    else diags.error(root, "no plugins: the configuration needs a plugins: list");
    if (root["routes"]) {
        config.routes = root["routes"];
        if (!config.routes.IsSequence()) diags.error(config.routes, "routes: expected a list of routes");
    }
    if (root["themes"]) parse_themes(root["themes"], config, diags);
    return config;
}

Config load_config_file(const std::string &path, Diagnostics &diags) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        diags.error_here("cannot open the configuration file " + path);
        Config c;
        c.file = path;
        return c;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_config(ss.str(), path, diags);
}

} // namespace relais
