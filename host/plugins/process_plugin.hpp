// Out-of-process plugins: a plugin that is an executable speaking the JSON-lines protocol of docs/protocol.md over
// its standard input and output. The host side is a proxy: a synthesised relais_plugin_info whose callbacks talk to
// the child, so the rest of the host sees an ordinary plugin. The proxy starts the child in start(), restarts it
// with backoff when it dies, and answers RETRY for a delivery the child could not acknowledge (the outbox redelivers).
#pragma once

#include <relais/plugin.h>

#include <boost/json/object.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace relais {

struct LoadedPlugin;

// One out-of-process plugin: what its manifest declares, and the relais_plugin_info the host loads instead of a
// library's. The info's callbacks find this spec again through the instance (see process_spec_of).
struct ProcessSpec {
    std::string name, version, description;
    std::string origin;            // the manifest, or the library run isolated
    std::vector<std::string> argv; // the command and its arguments
    uint32_t capabilities = 0;
    int32_t default_level = RELAIS_LEVEL_INTERNAL;
    std::deque<std::string> strings; // storage of the config keys' texts (a deque keeps addresses stable)
    std::vector<relais_config_key> keys;
    relais_plugin_info info{};
};

// Reads a manifest relais-NAME.plugin.json. Null with `error` set when it is not valid.
std::shared_ptr<ProcessSpec> load_process_manifest(const std::string &path, std::string &error);
// The shared-library plugin run in a child `relais plugin-runner --library PATH` (instance key `isolate: true`).
std::shared_ptr<ProcessSpec> isolated_spec(const LoadedPlugin &plugin);

// A connection carrying one JSON object per line, over a file descriptor (a socket or a pipe pair).
class LineChannel {
public:
    // With `owns`, the descriptors are closed when the channel is destroyed.
    LineChannel(int read_fd, int write_fd, bool owns = false) : read_fd_(read_fd), write_fd_(write_fd), owns_(owns) {}
    ~LineChannel();
    LineChannel(const LineChannel &) = delete;
    LineChannel &operator=(const LineChannel &) = delete;
    // Writes one object as a line; false when the peer is gone.
    bool send(const boost::json::object &o);
    // The next line parsed as an object; nullopt at the end of the stream. Lines that are not objects are
    // reported in `bad` and skipped.
    std::optional<boost::json::object> receive(std::string *bad = nullptr);

private:
    int read_fd_, write_fd_;
    bool owns_;
    std::mutex write_mutex_;
    std::string buffer_;
};

// The config of an instance as JSON, read through the ABI (defaults and ${env:} references applied): declared
// int, double and bool keys become numbers and booleans, everything else strings, lists and maps.
boost::json::object config_as_json(relais_host *host, const relais_host_api *api,
                                   const std::vector<const relais_config_key *> &keys);

} // namespace relais
