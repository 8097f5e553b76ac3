// Checks an instance's `config:` against the keys its plugin declares (names, types, required keys), and places a
// plugin's own "dotted.path: message" errors at that key's line and column.
#pragma once

#include "config/diagnostics.hpp"
#include "plugins/instance.hpp"
#include "plugins/loader.hpp"

namespace relais {

void check_plugin_config(const LoadedPlugin &plugin, const InstanceConfig &instance, Diagnostics &diags);
void report_plugin_error(const PluginInstance &instance, const std::string &error, Diagnostics &diags);

} // namespace relais
