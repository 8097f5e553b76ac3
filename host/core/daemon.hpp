// The running daemon: state store, timers, metrics, plugin instances, the pipeline and the admin server, started
// and stopped in the order that loses nothing.
#pragma once

#include "config/config.hpp"
#include "core/assembly.hpp"
#include "core/metrics.hpp"
#include "core/pipeline.hpp"
#include "core/timers.hpp"
#include "deliver/outbox.hpp"
#include "plugins/loader.hpp"
#include "state/kv_store.hpp"

#include <memory>

namespace relais {

class AdminServer;

class Daemon {
public:
    Daemon(Config config, const PluginCatalog &catalog);
    ~Daemon();

    // Validates and creates everything; false with `diags` filled when the configuration is wrong.
    bool build(Diagnostics &diags);
    // Starts delivery, then the plugins, then the admin server. Throws std::runtime_error with a clear message.
    void start();
    // Refuses new messages, finishes queued deliveries (up to `drain`), stops the plugins.
    void stop(std::chrono::milliseconds drain = std::chrono::seconds(10));

    Metrics &metrics() { return metrics_; }
    Outbox &outbox() { return *outbox_; }
    const Assembly &assembly() const { return assembly_; }
    const Pipeline &pipeline() const { return *pipeline_; }
    const Config &config() const { return config_; }
    const PluginCatalog &catalog() const { return catalog_; }
    uint16_t admin_port() const;

private:
    Config config_;
    const PluginCatalog &catalog_;
    Metrics metrics_;
    std::unique_ptr<KvStore> kv_;
    std::unique_ptr<Timers> timers_;
    std::unique_ptr<Outbox> outbox_;
    Assembly assembly_;
    std::unique_ptr<Pipeline> pipeline_;
    std::unique_ptr<AdminServer> admin_;
    bool started_ = false;
};

} // namespace relais
