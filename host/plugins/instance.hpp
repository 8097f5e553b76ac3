// The host side of one plugin instance: the relais_host handle a plugin talks to, its config tree, its services,
// and the calls into the plugin (create, start, deliver, search, stop, destroy).
#pragma once

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "core/timers.hpp"
#include "deliver/delivery.hpp"
#include "plugins/loader.hpp"
#include "state/kv_store.hpp"

#include <relais/plugin.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace relais {

// What an instance may use of the host. Any of them may be absent (`relais check` creates instances with none).
struct HostServices {
    KvStore *kv = nullptr;
    Timers *timers = nullptr;
    Metrics *metrics = nullptr;
    // Receives what the instance emits and calls `done` with a RELAIS_* code once it is stored (or refused).
    using Emitted = std::function<void(int result)>;
    std::function<void(const std::string &instance, Message &&message, Emitted done)> emit;
    // The same for several messages, stored in one commit, all or none.
    std::function<void(const std::string &instance, std::vector<Message> &&messages, Emitted done)> emit_batch;
    std::string data_dir; // the instances' folders are created below it
};

class PluginInstance {
public:
    PluginInstance(const LoadedPlugin &plugin, const InstanceConfig &config, HostServices services);
    ~PluginInstance();
    PluginInstance(const PluginInstance &) = delete;
    PluginInstance &operator=(const PluginInstance &) = delete;

    // Calls the plugin's create(). False with `error` set when the plugin refuses its config.
    bool create(std::string &error);
    bool start(std::string &error);
    void stop();
    // What the plugin's emit and emit_async call: checks, then hands the message to the host's emit service.
    void emit(const relais_message *message, HostServices::Emitted done);
    // What the plugin's emit_batch calls: the same checks, then the host's emit_batch service.
    void emit_batch(const relais_message *const *messages, size_t count, HostServices::Emitted done);

    // `reply_to`: the native id, on this instance's network, of the message this one answers or edits.
    DeliveryOutcome deliver(const DeliveryJob &job, const std::string &reply_to = {});
    // Several deliveries in one call (a plugin with deliver_batch, ABI 1.1). The outcomes are read in order up to
    // the first that is not delivered; the result is that long.
    bool can_deliver_batch() const { return plugin_.batch_deliver() != nullptr; }
    std::vector<DeliveryOutcome> deliver_batch(const std::vector<const DeliveryJob *> &jobs);
    bool search(const SearchRequest &request, std::vector<SearchHit> &hits, std::string &error);

    const std::string &id() const { return config_.id; }
    const LoadedPlugin &plugin() const { return plugin_; }
    const InstanceConfig &config() const { return config_; }
    Level level() const { return level_; }
    std::string state() const { return state_; }

    // The plugin behind a handle this class gave out (used by the out-of-process proxy to find its spec).
    static const LoadedPlugin &plugin_of(relais_host *h) { return self(h)->plugin_; }

    // The YAML node at a dotted config path ("feeds.0.url"), or an invalid node.
    YAML::Node config_node(const std::string &path) const;

private:
    // Whether the instance may emit now; if not, `done` has been told why.
    bool may_emit(HostServices::Emitted &done);
    static const relais_host_api &api();
    static PluginInstance *self(relais_host *h) { return reinterpret_cast<PluginInstance *>(h); }
    relais_host *handle() { return reinterpret_cast<relais_host *>(this); }
    std::string default_value(const std::string &path) const;

    const LoadedPlugin &plugin_;
    InstanceConfig config_;
    HostServices services_;
    Level level_;
    std::string data_dir_;
    void *self_ = nullptr;
    std::atomic<bool> emitting_{false};
    std::string state_ = "created";

    std::mutex scratch_mutex_;
    std::map<std::string, std::string> scratch_; // expanded config values handed out as borrowed strings
    std::map<std::string, Metric *> plugin_metrics_;
    std::mutex metrics_mutex_;
};

} // namespace relais
