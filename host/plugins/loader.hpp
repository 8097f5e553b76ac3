// Finds plugin libraries, loads them with Boost.DLL and checks their ABI before anything else is read.
#pragma once

#include <relais/plugin.h>

#include <boost/dll/shared_library.hpp>

#include <map>
#include <string>
#include <vector>

namespace relais {

struct LoadedPlugin {
    std::string name;
    std::string version;
    std::string description;
    std::string path;
    uint32_t abi_major = 0, abi_minor = 0;
    const relais_plugin_info *info = nullptr;
    boost::dll::shared_library library; // keeps the code mapped as long as the plugin is used

    bool can(uint32_t capability) const { return (info->capabilities & capability) != 0; }
    // The declared config keys, read with the plugin's own stride.
    std::vector<const relais_config_key *> config_keys() const;
};

struct RefusedPlugin {
    std::string path;
    std::string reason;
};

class PluginCatalog {
public:
    // Scans each folder for relais-*.so, in order; the first plugin of a name wins.
    void scan(const std::vector<std::string> &folders);
    // Loads one library file; refusals are recorded, not thrown.
    void load_file(const std::string &path);

    const LoadedPlugin *find(const std::string &name) const;
    std::vector<std::string> names() const;
    const std::map<std::string, LoadedPlugin> &plugins() const { return plugins_; }
    const std::vector<RefusedPlugin> &refused() const { return refused_; }
    const std::vector<std::string> &folders() const { return folders_; }

private:
    std::map<std::string, LoadedPlugin> plugins_;
    std::vector<RefusedPlugin> refused_;
    std::vector<std::string> folders_;
};

// The folders searched, in order: --plugin-dir options, host.plugin_path, $RELAIS_PLUGIN_PATH, and
// <folder of the relais binary>/../lib/relais/plugins.
std::vector<std::string> plugin_folders(const std::vector<std::string> &cli_dirs,
                                        const std::vector<std::string> &config_dirs);

std::string capability_names(uint32_t capabilities);

} // namespace relais
