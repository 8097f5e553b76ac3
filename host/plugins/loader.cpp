#include "plugins/loader.hpp"

#include "plugins/process_plugin.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

namespace relais {

std::vector<const relais_config_key *> LoadedPlugin::config_keys() const {
    std::vector<const relais_config_key *> keys;
    if (!info->config_keys || info->config_key_size < sizeof(relais_config_key)) return keys;
    const char *base = reinterpret_cast<const char *>(info->config_keys);
    for (size_t i = 0; i < info->config_keys_len; ++i)
        keys.push_back(reinterpret_cast<const relais_config_key *>(base + i * info->config_key_size));
    return keys;
}

std::string capability_names(uint32_t c) {
    std::string out;
    auto add = [&](const char *n) { out += out.empty() ? n : std::string(",") + n; };
    if (c & RELAIS_CAP_SOURCE) add("source");
    if (c & RELAIS_CAP_SINK) add("sink");
    if (c & RELAIS_CAP_ARCHIVE) add("archive");
    return out.empty() ? "none" : out;
}

std::vector<std::string> plugin_folders(const std::vector<std::string> &cli_dirs,
                                        const std::vector<std::string> &config_dirs) {
    std::vector<std::string> out(cli_dirs);
    out.insert(out.end(), config_dirs.begin(), config_dirs.end());
    if (const char *env = std::getenv("RELAIS_PLUGIN_PATH")) {
        std::stringstream ss(env);
        std::string item;
        while (std::getline(ss, item, ':'))
            if (!item.empty()) out.push_back(item);
    }
    boost::system::error_code ec;
    auto exe = boost::dll::program_location(ec);
    if (!ec) out.push_back((fs::path(exe.string()).parent_path().parent_path() / RELAIS_PLUGIN_SUBDIR).string());
    // The same folder named twice (a relative and an absolute path, say) is searched once.
    std::vector<std::string> unique;
    std::vector<fs::path> seen;
    for (const auto &folder : out) {
        std::error_code fec;
        fs::path canonical = fs::weakly_canonical(folder, fec);
        if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
        seen.push_back(canonical);
        unique.push_back(folder);
    }
    return unique;
}

void PluginCatalog::scan(const std::vector<std::string> &folders, const std::set<std::string> *wanted) {
    folders_ = folders;
    std::vector<std::string> skipped; // libraries not loaded because their file names no plugin wanted
    for (const auto &folder : folders) {
        std::error_code ec;
        if (!fs::is_directory(folder, ec)) continue;
        std::vector<fs::path> files;
        auto ends_with = [](const std::string &s, const std::string &end) {
            return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
        };
        for (const auto &entry : fs::directory_iterator(folder, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind("relais-", 0) == 0 && (entry.path().extension() == ".so" || ends_with(name, ".plugin.json")))
                files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto &f : files) {
            if (f.extension() != ".so") {
                load_manifest(f.string());
                continue;
            }
            // relais-NAME.so: a library whose name no configuration instance uses is not even mapped.
            const std::string stem = f.stem().string().substr(std::string("relais-").size());
            if (wanted && !wanted->count(stem)) skipped.push_back(f.string());
            else load_file(f.string());
        }
    }
    // A wanted plugin not found under its own file name may be in a library named otherwise: look at them all.
    if (wanted && std::any_of(wanted->begin(), wanted->end(), [&](const std::string &n) { return !find(n); }))
        for (const auto &path : skipped) load_file(path);
}

void PluginCatalog::load_file(const std::string &path) {
    auto refuse = [&](std::string reason) { refused_.push_back({path, std::move(reason)}); };
    LoadedPlugin p;
    p.path = path;
    try {
        p.library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception &e) {
        return refuse(std::string("cannot be loaded: ") + e.what());
    }
    if (!p.library.has(RELAIS_PLUGIN_ENTRY_SYMBOL))
        return refuse("not a Relais plugin: it does not export relais_plugin_entry");
    auto entry = p.library.get<const relais_plugin_info *()>(RELAIS_PLUGIN_ENTRY_SYMBOL);
    const relais_plugin_info *info = entry();
    if (!info) return refuse("relais_plugin_entry returned nothing");
    // Only struct_size, abi_major and abi_minor are read before the version is known to be compatible.
    if (info->struct_size < offsetof(relais_plugin_info, abi_minor) + sizeof(info->abi_minor))
        return refuse("its plugin description is too short to be a Relais plugin");
    const std::string abi = std::to_string(info->abi_major) + "." + std::to_string(info->abi_minor);
    const std::string host_abi = std::to_string(RELAIS_ABI_MAJOR) + "." + std::to_string(RELAIS_ABI_MINOR);
    if (info->abi_major != RELAIS_ABI_MAJOR)
        return refuse("built for plugin ABI " + abi + ", but this host speaks ABI " + host_abi +
                      ": a different major version cannot load; rebuild the plugin against this host's SDK");
    if (info->abi_minor > RELAIS_ABI_MINOR)
        return refuse("built for plugin ABI " + abi + ", newer than this host's ABI " + host_abi +
                      ": upgrade relais, or rebuild the plugin against this host's SDK");
    // Each minor appends fields: the description must reach the last field of the minor it declares.
    const size_t needed = info->abi_minor == 0 ? offsetof(relais_plugin_info, deliver_batch) : sizeof(relais_plugin_info);
    if (info->struct_size < needed)
        return refuse("its plugin description (" + std::to_string(info->struct_size) +
                      " bytes) is shorter than ABI " + abi + " requires");
    static const std::regex name_pattern("[a-z0-9][a-z0-9-]*");
    const std::string name = info->name ? info->name : "";
    if (!std::regex_match(name, name_pattern))
        return refuse("its name '" + name + "' is not valid: use lower-case letters, digits and -");
    if (!info->create || !info->start || !info->stop || !info->destroy)
        return refuse("plugin '" + name + "' lacks one of create, start, stop, destroy");
    if ((info->capabilities & RELAIS_CAP_SINK) && !info->deliver)
        return refuse("plugin '" + name + "' is a sink but has no deliver()");
    if ((info->capabilities & RELAIS_CAP_ARCHIVE) && !info->search)
        return refuse("plugin '" + name + "' is an archive but has no search()");
    if (auto it = plugins_.find(name); it != plugins_.end())
        return refuse("plugin '" + name + "' is already loaded from " + it->second.path + " (the first one wins)");
    p.name = name;
    p.version = info->version ? info->version : "";
    p.description = info->description ? info->description : "";
    p.abi_major = info->abi_major;
    p.abi_minor = info->abi_minor;
    p.info = info;
    LoadedPlugin twin;
    twin.name = p.name;
    twin.version = p.version;
    twin.description = p.description;
    twin.path = p.path;
    twin.abi_major = p.abi_major;
    twin.abi_minor = p.abi_minor;
    twin.process = isolated_spec(p);
    twin.info = &twin.process->info;
    isolated_.emplace(name, std::move(twin));
    plugins_.emplace(name, std::move(p));
}

void PluginCatalog::load_manifest(const std::string &path) {
    std::string error;
    auto spec = load_process_manifest(path, error);
    if (!spec) return refused_.push_back({path, "manifest " + error});
    static const std::regex name_pattern("[a-z0-9][a-z0-9-]*");
    if (!std::regex_match(spec->name, name_pattern))
        return refused_.push_back({path, "its name '" + spec->name + "' is not valid: use lower-case letters, digits and -"});
    if (auto it = plugins_.find(spec->name); it != plugins_.end())
        return refused_.push_back(
            {path, "plugin '" + spec->name + "' is already loaded from " + it->second.path + " (the first one wins)"});
    LoadedPlugin p;
    p.name = spec->name;
    p.version = spec->version;
    p.description = spec->description;
    p.path = path;
    p.abi_major = RELAIS_ABI_MAJOR;
    p.abi_minor = RELAIS_ABI_MINOR;
    p.process = spec;
    p.info = &spec->info;
    plugins_.emplace(p.name, std::move(p));
}

const LoadedPlugin *PluginCatalog::isolated(const std::string &name) const {
    auto it = isolated_.find(name);
    return it == isolated_.end() ? nullptr : &it->second;
}

const LoadedPlugin *PluginCatalog::find(const std::string &name) const {
    auto it = plugins_.find(name);
    return it == plugins_.end() ? nullptr : &it->second;
}

std::vector<std::string> PluginCatalog::names() const {
    std::vector<std::string> out;
    for (const auto &[n, p] : plugins_) out.push_back(n);
    return out;
}

} // namespace relais
