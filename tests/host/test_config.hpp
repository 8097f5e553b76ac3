// Builds configs and route tables from YAML text for the host's unit tests.
#pragma once

#include "config/config.hpp"
#include "route/rules.hpp"

#include <relais/plugin.h>

#include <string>
#include <vector>

namespace relais::test {

inline InstanceFacts facts(std::string id, uint32_t caps, Level level, std::string plugin = "test") {
    return InstanceFacts{std::move(id), std::move(plugin), level, caps, std::nullopt};
}

// The instances the route tests use: two sources, a public sink, an internal sink, an archive.
inline std::vector<InstanceFacts> standard_instances() {
    return {facts("feed", RELAIS_CAP_SOURCE, Level::public_, "rss"),
            facts("chat", RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, Level::confidential, "xmpp"),
            facts("outside", RELAIS_CAP_SINK, Level::public_, "bluesky"),
            facts("team", RELAIS_CAP_SINK, Level::internal, "console"),
            facts("archive", RELAIS_CAP_SINK | RELAIS_CAP_ARCHIVE, Level::secret, "archive-sqlite")};
}

inline RouteTable routes_from(const std::string &yaml, Diagnostics &diags,
                              std::vector<InstanceFacts> instances = standard_instances()) {
    Config config = parse_config("plugins: []\nroutes:\n" + yaml, "test.yaml", diags);
    return compile_routes(config, std::move(instances), diags);
}

inline std::string all(const Diagnostics &d) {
    std::string out;
    for (const auto &i : d.items()) out += i.str() + "\n";
    return out;
}

} // namespace relais::test
