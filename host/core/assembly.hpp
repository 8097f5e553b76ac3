// Turns a parsed configuration into plugin instances and compiled routes, reporting every mistake. `relais check`,
// `relais explain` and `relais run` all go through here, so they agree on what is valid.
#pragma once

#include "config/config.hpp"
#include "plugins/instance.hpp"
#include "plugins/loader.hpp"
#include "route/rules.hpp"

#include <memory>
#include <vector>

namespace relais {

struct Assembly {
    std::vector<std::unique_ptr<PluginInstance>> instances;
    RouteTable routes;

    PluginInstance *instance(const std::string &id) const;
    // The archive to search: `id` if given, else the first instance that can archive.
    PluginInstance *archive(const std::string &id, std::string &error) const;
};

// Creates (but does not start) an instance for each config entry whose plugin is found.
Assembly assemble(const Config &config, const PluginCatalog &catalog, const HostServices &services,
                  Diagnostics &diags);

} // namespace relais
