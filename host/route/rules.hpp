// Routes, compiled from the configuration: where a message may come from, what it must look like, and what
// happens to it. Compiling checks everything that can be checked before a message arrives.
#pragma once

#include "config/config.hpp"
#include "route/template.hpp"

#include <relais/message.hpp>

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relais {

// What the router knows of a plugin instance.
struct InstanceFacts {
    std::string id;
    std::string plugin;
    Level level = Level::public_; // the most confidential level it may receive
    uint32_t capabilities = 0;    // RELAIS_CAP_*
    std::optional<Template> default_template;
    std::string dedupe = "native_id"; // native_id | content | off
};

struct Endpoint {
    std::string instance;
    std::string channel; // empty: any channel (in from:) or the instance's default (in to:)
    std::string str() const { return channel.empty() ? instance : instance + "/" + channel; }
};

struct Conditions {
    std::vector<Kind> kinds;
    std::vector<std::string> channels;
    std::vector<std::string> authors;      // lower-cased; match author or author_id
    std::vector<std::string> tags_any;     // lower-cased, without '#'
    std::vector<std::string> tags_all;
    std::vector<std::string> mentions_any; // lower-cased, without '@'
    std::vector<std::string> keywords;     // lower-cased words or phrases, matched on word boundaries
    std::vector<std::shared_ptr<RE2>> regexes;
    std::vector<std::string> languages;    // "fr" matches "fr" and "fr-CA"
    std::vector<Level> levels;

    bool empty() const;
};

struct Action {
    enum class Type { relay, archive, drop, tag, stop };
    Type type = Type::relay;
    std::vector<Endpoint> to;           // relay and archive
    std::optional<Template> tmpl;       // relay
    std::optional<Level> as_level;      // relay: an explicit downgrade, e.g. an internal post published as public
    // relay: who may publish without approval (lower-cased author or author_id); anyone else's message is held.
    std::vector<std::string> speakers;
    bool hold = false;                  // relay (the `hold` action): every message waits for approval
    std::vector<std::string> tags;      // tag
};

struct Route {
    std::string name;
    int line = 0;
    std::vector<Endpoint> from; // empty: any source
    Conditions when;
    std::vector<Action> actions;
};

struct RouteTable {
    std::vector<Route> routes;
    std::vector<InstanceFacts> instances;

    const InstanceFacts *instance(const std::string &id) const;
};

// Compiles config.routes against the known instances. Every mistake goes to `diags` with its line and column.
RouteTable compile_routes(const Config &config, std::vector<InstanceFacts> instances, Diagnostics &diags);

// "instance" or "instance/channel" items (read from `node`) → endpoints of instances that have `capability`; each
// unknown or unable instance is reported at its item, with a did-you-mean.
std::vector<Endpoint> resolve_endpoints(const std::vector<std::string> &items, const YAML::Node &node,
                                        const std::string &what, const std::vector<InstanceFacts> &instances,
                                        uint32_t capability, const char *ability, Diagnostics &diags);

// Lower-cases ASCII letters; other bytes are kept as they are.
std::string ascii_lower(std::string_view s);

} // namespace relais
