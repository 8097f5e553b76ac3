// relais — the host daemon and its command line.
#include "cli/commands.hpp"
#include "deliver/outbox_store.hpp"

#include <relais/plugin.h>

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char **argv) {
    CLI::App app{"Relais: bridges the networks a company lives in, through plugins and YAML rules"};
    app.require_subcommand(1);
    relais::CommonOptions common;
    auto add_common = [&](CLI::App *cmd, bool config_required) {
        auto *opt = cmd->add_option("-c,--config", common.config_file, "configuration file")->check(CLI::ExistingFile);
        if (config_required) opt->required();
        cmd->add_option("--plugin-dir", common.plugin_dirs, "a folder of plugins, searched first (repeatable)");
    };

    auto *run = app.add_subcommand("run", "run the daemon (on the embedded default configuration without -c)");
    add_common(run, false);

    auto *check = app.add_subcommand("check", "validate a configuration; every mistake as FILE:LINE:COL: message");
    add_common(check, false);

    bool json = false, keys = false;
    auto *plugins = app.add_subcommand("plugins", "list the plugins found and those refused, and why");
    add_common(plugins, false);
    plugins->add_flag("--json", json, "JSON output");
    plugins->add_flag("--keys", keys, "also list each plugin's config keys");

    std::string message, source;
    auto *explain = app.add_subcommand("explain", "show which routes a message takes and why");
    add_common(explain, false);
    explain->add_option("-m,--message", message, "the message as JSON, or @FILE")->required();
    explain->add_option("-s,--source", source, "the instance it comes from (else the message's \"source\")");
    explain->add_flag("--json", json, "JSON output");

    auto *archive = app.add_subcommand("archive", "the archive");
    archive->require_subcommand(1);
    std::string query, archive_id;
    unsigned limit = 20;
    bool ranked = false;
    auto *search = archive->add_subcommand("search", "full-text search of the archive");
    add_common(search, false);
    search->add_option("query", query, "words to find; \"a phrase\"; prefix*")->required();
    search->add_option("-n,--limit", limit, "how many results (default 20)");
    search->add_flag("--ranked", ranked, "best match first (default: newest first)");
    search->add_option("--archive", archive_id, "which archive instance (default: the first)");
    search->add_flag("--json", json, "JSON output");

    auto *deadletter = app.add_subcommand("deadletter", "deliveries that failed for good: list, show, replay, drop");
    deadletter->require_subcommand(1);
    std::string dead_id;
    bool dead_all = false;
    std::vector<CLI::App *> dead_actions;
    for (const char *action : {"list", "show", "replay", "drop"}) {
        auto *cmd = deadletter->add_subcommand(action, std::string(action) == "list" ? "list the dead letters"
                                                       : std::string(action) == "show" ? "show one, with its message"
                                                       : std::string(action) == "replay"
                                                           ? "put it back in its destination's outbox"
                                                           : "forget it");
        add_common(cmd, false);
        if (std::string(action) != "list") cmd->add_option("id", dead_id, "the dead letter's id");
        if (std::string(action) == "replay") cmd->add_flag("--all", dead_all, "replay every dead letter");
        cmd->add_flag("--json", json, "JSON output");
        dead_actions.push_back(cmd);
    }

    auto *held = app.add_subcommand("held", "deliveries waiting for approval: list, show, approve, drop");
    held->require_subcommand(1);
    std::vector<CLI::App *> held_actions;
    for (const char *action : {"list", "show", "approve", "drop"}) {
        auto *cmd = held->add_subcommand(action, std::string(action) == "list" ? "list the held deliveries"
                                                 : std::string(action) == "show" ? "show one, with its message"
                                                 : std::string(action) == "approve"
                                                     ? "publish it: put it in its destination's outbox"
                                                     : "forget it: it is never published");
        add_common(cmd, false);
        if (std::string(action) != "list") cmd->add_option("id", dead_id, "the held delivery's id")->required();
        cmd->add_flag("--json", json, "JSON output");
        held_actions.push_back(cmd);
    }

    auto *defaults = app.add_subcommand("default-config", "print the embedded default configuration");
    auto *version = app.add_subcommand("version", "print the version and the plugin ABI");

    std::string new_name, new_lang = "cpp", new_dir;
    auto *new_plugin = app.add_subcommand("new-plugin", "write a ready-to-build plugin project (C++ or Python)");
    new_plugin->add_option("name", new_name, "the plugin's name: lower-case letters, digits and -")->required();
    new_plugin->add_option("--lang", new_lang, "cpp (a library, built with CMake against the SDK) or python (a process)")
        ->check(CLI::IsMember({"cpp", "python"}));
    new_plugin->add_option("--dir", new_dir, "where to write it (default ./NAME); must be empty or absent");

    // Started by the host for instances with `isolate: true`; not for people (hidden from --help).
    std::string runner_library;
    auto *runner = app.add_subcommand("plugin-runner", "");
    runner->group("");
    runner->add_option("--library", runner_library, "the plugin library to run")->required();

    CLI11_PARSE(app, argc, argv);

    if (*run) return relais::cmd_run(common);
    if (*check) return relais::cmd_check(common);
    if (*plugins) return relais::cmd_plugins(common, json, keys);
    if (*explain) return relais::cmd_explain(common, message, source, json);
    if (*search) return relais::cmd_archive_search(common, query, limit, ranked, archive_id, json);
    if (*defaults) return relais::cmd_default_config();
    if (*new_plugin) return relais::cmd_new_plugin(new_name, new_lang, new_dir);
    if (*runner) return relais::cmd_plugin_runner(runner_library);
    for (auto *cmd : dead_actions)
        if (*cmd) return relais::cmd_parked(common, relais::Shelf::dead, cmd->get_name(), dead_id, dead_all, json);
    for (auto *cmd : held_actions)
        if (*cmd) return relais::cmd_parked(common, relais::Shelf::held, cmd->get_name(), dead_id, false, json);
    if (*version) {
        std::printf("relais %s (plugin ABI %d.%d)\n", RELAIS_VERSION, RELAIS_ABI_MAJOR, RELAIS_ABI_MINOR);
        return 0;
    }
    return 0;
}
