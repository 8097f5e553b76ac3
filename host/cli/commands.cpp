#include "cli/commands.hpp"

#include "admin/json_views.hpp"
#include "cli/logging.hpp"
#include "config/config.hpp"
#include "core/assembly.hpp"
#include "core/daemon.hpp"
#include "core/pipeline.hpp"

#include <relais/message_json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace relais {

namespace {

// Loads the configuration and the plugins it may use. False (after printing every diagnostic) when the
// configuration cannot even be read.
bool load(const CommonOptions &o, Config &config, PluginCatalog &catalog, Diagnostics &diags) {
    config = o.config_file.empty() ? parse_config(embedded_default_config(), "<embedded default>", diags)
                                   : load_config_file(o.config_file, diags);
    // Only the plugins the configuration uses are loaded: the others would cost memory and start-up time.
    std::set<std::string> used;
    for (const auto &instance : config.instances) used.insert(instance.use);
    catalog.scan(plugin_folders(o.plugin_dirs, config.host.plugin_path), &used);
    return true;
}

int print_diagnostics(const Diagnostics &diags, const char *found = "in the configuration") {
    for (const auto &d : diags.items()) std::fprintf(stderr, "%s\n", d.str().c_str());
    std::fprintf(stderr, "%zu error(s) %s\n", diags.items().size(), found);
    return 2;
}

} // namespace

int cmd_default_config() {
    std::fwrite(embedded_default_config().data(), 1, embedded_default_config().size(), stdout);
    return 0;
}

int cmd_check(const CommonOptions &o) {
    setup_logging("warn", "text");
    Config config;
    PluginCatalog catalog;
    Diagnostics diags(o.config_file.empty() ? "<embedded default>" : o.config_file);
    load(o, config, catalog, diags);
    if (diags.empty()) {
        Assembly a = assemble(config, catalog, HostServices{}, diags); // plugins check their config; nothing runs
        if (diags.empty()) {
            std::printf("%s: OK (%zu plugin instance(s), %zu route(s))\n", diags.file().c_str(), a.instances.size(),
                        a.routes.routes.size());
            return 0;
        }
    }
    return print_diagnostics(diags);
}

int cmd_run(const CommonOptions &o) {
    Config config;
    PluginCatalog catalog;
    Diagnostics diags(o.config_file.empty() ? "<embedded default>" : o.config_file);
    load(o, config, catalog, diags);
    setup_logging(config.host.log_level, config.host.log_format);
    if (!diags.empty()) return print_diagnostics(diags);
    for (const auto &r : catalog.refused()) spdlog::warn("plugin {} refused: {}", r.path, r.reason);

    Daemon daemon(std::move(config), catalog);
    // Besides the plugins' config, building opens the data folder's files: not every error is in the configuration.
    if (!daemon.build(diags)) return print_diagnostics(diags, "while starting: relais did not start");
    try {
        daemon.start();
    } catch (const std::exception &e) {
        spdlog::error("{}", e.what());
        daemon.stop(std::chrono::seconds(2));
        return 1;
    }
    boost::asio::io_context io;
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code &, int signal) {
        spdlog::info("received {}", signal == SIGINT ? "SIGINT" : "SIGTERM");
    });
    io.run();
    daemon.stop();
    return 0;
}

int cmd_plugins(const CommonOptions &o, bool json, bool keys) {
    setup_logging("warn", "text");
    Config config;
    PluginCatalog catalog;
    Diagnostics diags(o.config_file);
    if (!o.config_file.empty()) config = load_config_file(o.config_file, diags);
    catalog.scan(plugin_folders(o.plugin_dirs, config.host.plugin_path));
    if (json) {
        std::printf("%s\n", boost::json::serialize(plugins_json(catalog, nullptr)).c_str());
        return catalog.refused().empty() ? 0 : 1;
    }
    std::printf("host plugin ABI %d.%d; searched:", RELAIS_ABI_MAJOR, RELAIS_ABI_MINOR);
    for (const auto &f : catalog.folders()) std::printf(" %s", f.c_str());
    std::printf("\n\n%-16s %-9s %-5s %-22s %s\n", "NAME", "VERSION", "ABI", "CAN", "PATH");
    for (const auto &[name, p] : catalog.plugins()) {
        std::printf("%-16s %-9s %u.%-3u %-22s %s\n", name.c_str(), p.version.c_str(), p.abi_major, p.abi_minor,
                    capability_names(p.info->capabilities).c_str(), p.path.c_str());
        if (keys) {
            std::printf("    %s\n", p.description.c_str());
            for (const auto *k : p.config_keys())
                std::printf("    %-18s %s%s%s%s\n", k->name, k->required ? "(required) " : "",
                            k->description ? k->description : "", k->default_value ? " [default: " : "",
                            k->default_value ? (std::string(k->default_value) + "]").c_str() : "");
        }
    }
    if (!catalog.refused().empty()) {
        std::printf("\nrefused:\n");
        for (const auto &r : catalog.refused()) std::printf("  %s: %s\n", r.path.c_str(), r.reason.c_str());
    }
    return catalog.refused().empty() ? 0 : 1;
}

int cmd_explain(const CommonOptions &o, const std::string &message_arg, const std::string &source, bool json) {
    setup_logging("warn", "text");
    Config config;
    PluginCatalog catalog;
    Diagnostics diags(o.config_file.empty() ? "<embedded default>" : o.config_file);
    load(o, config, catalog, diags);
    if (!diags.empty()) return print_diagnostics(diags);
    Assembly a = assemble(config, catalog, HostServices{}, diags);
    if (!diags.empty()) return print_diagnostics(diags);

    std::string text = message_arg;
    if (!text.empty() && text[0] == '@') {
        std::ifstream f(text.substr(1));
        if (!f) {
            std::fprintf(stderr, "cannot read %s\n", text.substr(1).c_str());
            return 2;
        }
        std::stringstream ss;
        ss << f.rdbuf();
        text = ss.str();
    }
    Message m;
    std::string error;
    if (!message_from_json(text, m, error)) {
        std::fprintf(stderr, "--message: %s\n", error.c_str());
        return 2;
    }
    std::string from = !source.empty() ? source : m.source;
    if (from.empty() || !a.routes.instance(from)) {
        std::fprintf(stderr, "say which instance the message comes from: --source ID or \"source\" in the message "
                             "(instances: %s)\n",
                     [&] {
                         std::string ids;
                         for (const auto &i : a.routes.instances) ids += (ids.empty() ? "" : ", ") + i.id;
                         return ids;
                     }()
                         .c_str());
        return 2;
    }
    Metrics metrics;
    Pipeline pipeline(a.routes, metrics);
    pipeline.normalise(from, m);
    Plan plan = pipeline.router().route(m, true);
    if (json) {
        boost::json::array deliveries, refusals, lines;
        for (const auto &d : plan.deliveries)
            deliveries.push_back(boost::json::object{{"route", d.route}, {"to", d.instance}, {"channel", d.channel},
                                                     {"rendered", d.rendered}, {"level", level_name(d.level)},
                                                     {"archive", d.archive}});
        for (const auto &r : plan.refusals)
            refusals.push_back(boost::json::object{
                {"route", r.route}, {"to", r.instance}, {"reason", r.reason}, {"detail", r.detail}});
        for (const auto &l : plan.explanation) lines.push_back(boost::json::string(l));
        boost::json::array matched;
        for (const auto &r : plan.matched_routes) matched.push_back(boost::json::string(r));
        std::printf("%s\n", boost::json::serialize(boost::json::object{
                                {"matched", std::move(matched)}, {"dropped", plan.dropped},
                                {"deliveries", std::move(deliveries)}, {"refusals", std::move(refusals)},
                                {"explanation", std::move(lines)}})
                                .c_str());
        return 0;
    }
    std::printf("message from %s (level %s, tags [", from.c_str(), std::string(level_name(m.level)).c_str());
    for (size_t i = 0; i < m.tags.size(); ++i) std::printf("%s%s", i ? ", " : "", m.tags[i].c_str());
    std::printf("])\n");
    for (const auto &l : plan.explanation) std::printf("%s\n", l.c_str());
    std::printf("result: %zu delivery(ies), %zu refused%s\n", plan.deliveries.size(), plan.refusals.size(),
                plan.dropped ? ", dropped" : "");
    return 0;
}

int cmd_archive_search(const CommonOptions &o, const std::string &query, unsigned limit, bool ranked,
                       const std::string &archive_id, bool json) {
    setup_logging("warn", "text");
    Config config;
    PluginCatalog catalog;
    Diagnostics diags(o.config_file.empty() ? "<embedded default>" : o.config_file);
    load(o, config, catalog, diags);
    if (!diags.empty()) return print_diagnostics(diags);

    // Only the archive instance is created and started; the daemon may be running beside us (SQLite WAL).
    Config only_archive = config;
    only_archive.instances.clear();
    only_archive.routes = YAML::Node();
    for (const auto &i : config.instances) {
        const LoadedPlugin *p = catalog.find(i.use);
        if (p && p->can(RELAIS_CAP_ARCHIVE) && (archive_id.empty() || i.id == archive_id))
            only_archive.instances.push_back(i);
    }
    KvStore kv(":memory:");
    HostServices services;
    services.kv = &kv;
    services.data_dir = config.host.data_dir;
    Assembly a = assemble(only_archive, catalog, services, diags);
    if (!diags.empty()) return print_diagnostics(diags);
    std::string error;
    PluginInstance *archive = a.archive(archive_id, error);
    if (!archive || !archive->start(error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
    }
    SearchRequest req{query, limit, ranked ? RELAIS_SEARCH_RANKED : RELAIS_SEARCH_NEWEST};
    std::vector<SearchHit> hits;
    if (!archive->search(req, hits, error)) {
        std::fprintf(stderr, "search failed: %s\n", error.c_str());
        return 2;
    }
    if (json) {
        std::printf("%s\n", boost::json::serialize(search_json(archive->id(), req, hits)).c_str());
        return 0;
    }
    for (const auto &h : hits) {
        std::time_t t = static_cast<std::time_t>((h.message.created_at_ms ? h.message.created_at_ms
                                                                          : h.message.received_at_ms) / 1000);
        char when[32];
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        std::string where = h.message.source + (h.message.channel.empty() ? "" : "/" + h.message.channel);
        std::printf("%s  %-24s %s: %s\n", when, where.c_str(),
                    (h.message.author.empty() ? h.message.author_id : h.message.author).c_str(),
                    (h.snippet.empty() ? h.message.text : h.snippet).c_str());
        if (!h.message.links.empty()) std::printf("%18s%s\n", "", h.message.links.front().c_str());
    }
    std::printf("%zu result(s) for \"%s\" in %s\n", hits.size(), query.c_str(), archive->id().c_str());
    return 0;
}

} // namespace relais
