// The subcommands of `relais`. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace relais {

enum class Shelf; // deliver/outbox_store.hpp

struct CommonOptions {
    std::string config_file;              // empty: the embedded default
    std::vector<std::string> plugin_dirs; // --plugin-dir, searched first
};

int cmd_run(const CommonOptions &o);
int cmd_check(const CommonOptions &o);
int cmd_plugins(const CommonOptions &o, bool json, bool keys);
int cmd_explain(const CommonOptions &o, const std::string &message, const std::string &source, bool json);
int cmd_archive_search(const CommonOptions &o, const std::string &query, unsigned limit, bool ranked,
                       const std::string &archive, bool json);
int cmd_default_config();
// Writes a plugin project (lang: cpp or python) into `dir` (default ./NAME).
int cmd_new_plugin(const std::string &name, const std::string &lang, const std::string &dir);
// Hidden: runs one library plugin in this process for a host, over stdin/stdout (docs/protocol.md).
int cmd_plugin_runner(const std::string &library);
// Parked deliveries: `relais deadletter …` (Shelf::dead) and `relais held …` (Shelf::held).
int cmd_parked(const CommonOptions &o, Shelf shelf, const std::string &action, const std::string &id, bool all,
               bool json);

} // namespace relais
