// Finds plugin libraries, loads them with Boost.DLL and checks their ABI before anything else is read.
#pragma once

#include <relais/plugin.h>

#include <boost/dll/shared_library.hpp>

#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

namespace relais {

struct ProcessSpec;

struct LoadedPlugin {
    std::string name;
    std::string version;
    std::string description;
    std::string path;
    uint32_t abi_major = 0, abi_minor = 0;
    const relais_plugin_info *info = nullptr;
    boost::dll::shared_library library; // keeps the code mapped as long as the plugin is used
    // Set when the plugin runs as a separate process (a manifest, or a library with `isolate: true`): `info` is
    // then the proxy of plugins/process_plugin.hpp.
    std::shared_ptr<const ProcessSpec> process;

    bool can(uint32_t capability) const { return (info->capabilities & capability) != 0; }
    // deliver_batch (ABI 1.1), or null: never read from a description too short to have it.
    auto batch_deliver() const -> decltype(info->deliver_batch) {
        return info->abi_minor >= 1 && info->struct_size >= sizeof(relais_plugin_info) ? info->deliver_batch : nullptr;
    }
    // The declared config keys, read with the plugin's own stride.
    std::vector<const relais_config_key *> config_keys() const;
};

struct RefusedPlugin {
    std::string path;
    std::string reason;
};

class PluginCatalog {
public:
    // Scans each folder for relais-*.so and relais-*.plugin.json (out-of-process plugins), in order; the first
    // plugin of a name wins. With `wanted` (the plugins a configuration uses), only the libraries named
    // relais-WANTED.so are loaded — unless one of them is missing, then every library is.
    void scan(const std::vector<std::string> &folders, const std::set<std::string> *wanted = nullptr);
    // Loads one library file; refusals are recorded, not thrown.
    void load_file(const std::string &path);
    // Reads an out-of-process plugin's manifest; refusals are recorded, not thrown.
    void load_manifest(const std::string &path);

    // The library plugin `name` run in a child process (instance key `isolate: true`).
    const LoadedPlugin *isolated(const std::string &name) const;

    const LoadedPlugin *find(const std::string &name) const;
    std::vector<std::string> names() const;
    const std::map<std::string, LoadedPlugin> &plugins() const { return plugins_; }
    const std::vector<RefusedPlugin> &refused() const { return refused_; }
    const std::vector<std::string> &folders() const { return folders_; }

private:
    std::map<std::string, LoadedPlugin> plugins_;
    std::map<std::string, LoadedPlugin> isolated_;
    std::vector<RefusedPlugin> refused_;
    std::vector<std::string> folders_;
};

// The folders searched, in order: --plugin-dir options, host.plugin_path, $RELAIS_PLUGIN_PATH, and
// <folder of the relais binary>/../<libdir>/relais/plugins (lib/relais/plugins, or lib/x86_64-linux-gnu/… under /usr).
std::vector<std::string> plugin_folders(const std::vector<std::string> &cli_dirs,
                                        const std::vector<std::string> &config_dirs);

std::string capability_names(uint32_t capabilities);

} // namespace relais
