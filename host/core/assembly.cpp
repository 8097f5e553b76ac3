#include "core/assembly.hpp"

#include "plugins/config_check.hpp"

namespace relais {

PluginInstance *Assembly::instance(const std::string &id) const {
    for (const auto &i : instances)
        if (i->id() == id) return i.get();
    return nullptr;
}

PluginInstance *Assembly::archive(const std::string &id, std::string &error) const {
    for (const auto &i : instances) {
        bool can = i->plugin().can(RELAIS_CAP_ARCHIVE);
        if (!id.empty() && i->id() == id) {
            if (can) return i.get();
            error = "instance '" + id + "' (plugin " + i->plugin().name + ") is not an archive";
            return nullptr;
        }
        if (id.empty() && can) return i.get();
    }
    error = id.empty() ? "no archive is configured: add a plugin instance using archive-sqlite"
                       : "no instance named '" + id + "'";
    return nullptr;
}

Assembly assemble(const Config &config, const PluginCatalog &catalog, const HostServices &services,
                  Diagnostics &diags) {
    Assembly a;
    std::vector<InstanceFacts> facts;
    for (const InstanceConfig &ic : config.instances) {
        if (ic.id.empty() || ic.use.empty()) continue; // already reported by the parser
        const LoadedPlugin *plugin = catalog.find(ic.use);
        if (plugin && ic.isolate && !plugin->process) plugin = catalog.isolated(ic.use); // run it in a child process
        if (!plugin) {
            std::string refused;
            for (const auto &r : catalog.refused())
                if (r.path.find("relais-" + ic.use + ".so") != std::string::npos) refused = r.reason;
            diags.error(ic.node["use"],
                        "unknown plugin '" + ic.use + "'" + suggestion(ic.use, catalog.names()) +
                            (refused.empty() ? "; `relais plugins` lists the plugins found" : ": it was refused: " + refused));
            // Routes may still name the instance: assume it can do anything, so one mistake is reported once.
            facts.push_back({ic.id, ic.use, ic.level.value_or(Level::public_),
                             RELAIS_CAP_SOURCE | RELAIS_CAP_SINK | RELAIS_CAP_ARCHIVE, std::nullopt});
            continue;
        }
        size_t before = diags.items().size();
        check_plugin_config(*plugin, ic, diags);
        InstanceFacts f;
        f.id = ic.id;
        f.plugin = plugin->name;
        f.capabilities = plugin->info->capabilities;
        f.level = ic.level ? *ic.level : static_cast<Level>(plugin->info->default_level);
        f.dedupe = ic.dedupe;
        if (!ic.template_text.empty()) {
            std::string error;
            f.default_template = Template::compile(ic.template_text, error);
            if (!f.default_template) diags.error(ic.node["template"], "instance '" + ic.id + "': " + error);
        }
        facts.push_back(std::move(f));
        if (diags.items().size() != before) continue; // the plugin would only repeat what is already said
        auto inst = std::make_unique<PluginInstance>(*plugin, ic, services);
        std::string error;
        if (!inst->create(error)) {
            report_plugin_error(*inst, error, diags);
            continue;
        }
        a.instances.push_back(std::move(inst));
    }
    a.routes = compile_routes(config, std::move(facts), diags);
    return a;
}

} // namespace relais
