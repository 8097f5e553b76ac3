// The configuration file: host settings, plugin instances and the raw routes (compiled by route/).
#pragma once

#include "config/diagnostics.hpp"

#include <relais/message.hpp>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace relais {

struct HostSettings {
    std::string data_dir = "var/relais";
    std::vector<std::string> plugin_path;
    std::string log_level = "info";
    std::string log_format = "text"; // text | json
    bool admin_enabled = true;
    std::string admin_host = "127.0.0.1";
    uint16_t admin_port = 8080;
    uint32_t max_attempts = 10;                       // before a delivery becomes a dead letter
    std::chrono::milliseconds retry_backoff{500};     // first retry delay, doubled each time
    std::chrono::milliseconds retry_max_backoff{300'000};
    bool fsync = false;                               // outbox commits survive power loss, not only a crash
    std::chrono::milliseconds dedupe_window{24 * 3600 * 1000};
    std::chrono::milliseconds id_map_retention{90LL * 24 * 3600 * 1000}; // 0: for ever
};

struct InstanceConfig {
    std::string id;
    std::string use;
    std::optional<Level> level; // unset: the plugin's default level
    std::string template_text;  // default template for deliveries to this instance; empty: "{text}"
    std::string dedupe = "native_id"; // how its repeats are recognised: native_id | content | off
    bool isolate = false;       // run a library plugin in its own process (`relais plugin-runner`)
    YAML::Node config;          // the `config:` map (may be null)
    YAML::Node node;            // the whole entry, for error positions
};

// A watch theme: a named set of keywords assigned to a room and its owner (the person mentioned when an item
// matches). Compiled into an ordinary route "theme:NAME" by route/themes.cpp.
struct Theme {
    std::string name;
    std::vector<std::string> keywords;  // as written; matched like a route's when.keywords
    std::vector<std::string> languages; // empty: any language
    std::vector<std::string> from;      // "instance" or "instance/channel"; empty: any source
    std::vector<std::string> to;        // the theme's room(s): "instance" or "instance/channel"
    std::string owner;                  // shown as "@owner" in the relayed text; may be empty
    YAML::Node node;                    // the whole entry, for error positions
};

struct Config {
    std::string file; // as shown in messages ("relais.yaml", "<embedded default>")
    HostSettings host;
    std::vector<InstanceConfig> instances;
    YAML::Node routes; // sequence, compiled by route/compile
    std::vector<Theme> themes; // compiled into routes by route/themes
    YAML::Node root;

    const InstanceConfig *instance(const std::string &id) const;
    std::vector<std::string> instance_ids() const;
};

// Parses YAML text. Every mistake found goes to `diags`; the result is usable only when diags is empty.
Config parse_config(const std::string &text, const std::string &file, Diagnostics &diags);
// Reads and parses a file; a missing file is a diagnostic too.
Config load_config_file(const std::string &path, Diagnostics &diags);

// The default configuration compiled into the binary (configs/relais.yaml).
const std::string &embedded_default_config();

// Expands ${env:NAME} and ${file:PATH} in a scalar. Returns false with `error` set when a reference cannot be
// resolved. A literal "${" is written "$${".
bool expand_references(const std::string &in, std::string &out, std::string &error);

// Helpers shared by the parsers of the config: a scalar's text, with the diagnostics of a wrong shape.
bool read_scalar(const YAML::Node &node, const std::string &what, std::string &out, Diagnostics &diags);
// Accepts a scalar (a list of one) or a sequence of scalars.
bool read_string_list(const YAML::Node &node, const std::string &what, std::vector<std::string> &out,
                      Diagnostics &diags);
// Reports every key of `map` not in `known`, with a did-you-mean.
void check_keys(const YAML::Node &map, const std::vector<std::string> &known, const std::string &where,
                Diagnostics &diags);

} // namespace relais
