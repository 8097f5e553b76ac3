#include "core/daemon.hpp"

#include "admin/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace relais {

Daemon::Daemon(Config config, const PluginCatalog &catalog) : config_(std::move(config)), catalog_(catalog) {}

Daemon::~Daemon() { stop(std::chrono::milliseconds(0)); }

bool Daemon::build(Diagnostics &diags) {
    // What goes wrong with the data folder or the files in it is pointed at `host.data_dir`, where it is chosen.
    const YAML::Node data_dir_node = config_.root["host"] ? config_.root["host"]["data_dir"] : config_.root;
    std::error_code ec;
    std::filesystem::create_directories(config_.host.data_dir, ec);
    if (ec) {
        diags.error(data_dir_node, "cannot create the data folder " + config_.host.data_dir + ": " + ec.message());
        return false;
    }
    try {
        kv_ = std::make_unique<KvStore>((std::filesystem::path(config_.host.data_dir) / "state.db").string());
        Outbox::Settings settings;
        settings.path = (std::filesystem::path(config_.host.data_dir) / "outbox.db").string();
        settings.sync = config_.host.fsync ? OutboxStore::Sync::full : OutboxStore::Sync::normal;
        settings.dedupe_window = config_.host.dedupe_window;
        settings.id_map_retention = config_.host.id_map_retention;
        outbox_ = std::make_unique<Outbox>(std::move(settings), metrics_);
    } catch (const std::exception &e) {
        diags.error(data_dir_node, e.what());
        return false;
    }
    timers_ = std::make_unique<Timers>(2);

    HostServices services;
    services.kv = kv_.get();
    services.timers = timers_.get();
    services.metrics = &metrics_;
    services.data_dir = config_.host.data_dir;
    services.emit = [this](const std::string &source, Message &&m, HostServices::Emitted done) {
        if (!pipeline_) return done(RELAIS_E_STOPPING);
        pipeline_->accept_async(source, std::move(m), std::move(done));
    };
    services.emit_batch = [this](const std::string &source, std::vector<Message> &&ms, HostServices::Emitted done) {
        if (!pipeline_) return done(RELAIS_E_STOPPING);
        pipeline_->accept_batch_async(source, std::move(ms), std::move(done));
    };
    assembly_ = assemble(config_, catalog_, services, diags);
    if (!diags.empty()) return false;

    pipeline_ = std::make_unique<Pipeline>(assembly_.routes, metrics_, outbox_.get());
    RetryPolicy policy{config_.host.max_attempts, config_.host.retry_backoff, config_.host.retry_max_backoff};
    for (auto &inst : assembly_.instances) {
        if (!inst->plugin().can(RELAIS_CAP_SINK)) continue;
        PluginInstance *target = inst.get();
        Outbox *outbox = outbox_.get();
        // Replies and edits name their original by its id on the source network; the destination needs its own.
        auto deliver = [target, outbox](const DeliveryJob &job) {
            std::string reply_to;
            if (!job.message.reply_to.empty())
                reply_to = outbox->mapped_id(job.message.source, job.message.reply_to, target->id()).value_or("");
            return target->deliver(job, reply_to);
        };
        DestinationQueue::BatchFn batch;
        if (target->can_deliver_batch())
            batch = [target](const std::vector<const DeliveryJob *> &jobs) { return target->deliver_batch(jobs); };
        pipeline_->add_destination(inst->id(), std::make_unique<DestinationQueue>(inst->id(), deliver, policy, metrics_,
                                                                                  outbox, std::move(batch)));
    }
    // What a previous run accepted but did not deliver goes first, in its order.
    auto pending = outbox_->recover();
    if (!pending.empty()) spdlog::info("resuming {} delivery(ies) left in the outbox", pending.size());
    for (auto &p : pending) {
        p.job.seq = p.seq;
        pipeline_->dispatch(p.destination, std::move(p.job));
    }
    return true;
}

void Daemon::start() {
    outbox_->start([this](const std::string &destination, DeliveryJob job) {
        pipeline_->dispatch(destination, std::move(job));
    });
    pipeline_->start_delivery();
    // Sinks first, so that what sources emit at start finds its destinations ready.
    for (int pass = 0; pass < 2; ++pass) {
        for (auto &inst : assembly_.instances) {
            bool is_sink = inst->plugin().can(RELAIS_CAP_SINK) || inst->plugin().can(RELAIS_CAP_ARCHIVE);
            if ((pass == 0) != is_sink) continue;
            std::string error;
            if (!inst->start(error))
                throw std::runtime_error("instance '" + inst->id() + "' (plugin " + inst->plugin().name +
                                         ") could not start: " + error);
            spdlog::info("[{}] started (plugin {} {}, level {})", inst->id(), inst->plugin().name,
                         inst->plugin().version, level_name(inst->level()));
        }
    }
    if (config_.host.admin_enabled) {
        admin_ = std::make_unique<AdminServer>(config_.host.admin_host, config_.host.admin_port, *this);
        admin_->start();
        spdlog::info("admin server on http://{}:{}/ (healthz, metrics, api/v1)", config_.host.admin_host,
                     admin_->port());
    }
    started_ = true;
    spdlog::info("relais is running: {} plugin instance(s), {} route(s)", assembly_.instances.size(),
                 assembly_.routes.routes.size());
}

void Daemon::stop(std::chrono::milliseconds drain) {
    if (!started_) {
        if (pipeline_) pipeline_->drain(std::chrono::milliseconds(0));
        return;
    }
    started_ = false;
    spdlog::info("stopping: no new messages accepted; finishing queued deliveries");
    pipeline_->close_intake();
    size_t left = pipeline_->drain(drain);
    for (auto &inst : assembly_.instances) inst->stop();
    outbox_->stop(); // writes the last outcomes; what was not delivered stays for the next start
    if (admin_) admin_->stop();
    timers_->shutdown();
    spdlog::info("stopped{}", left ? " (" + std::to_string(left) + " delivery(ies) left undone)" : "");
}

uint16_t Daemon::admin_port() const { return admin_ ? admin_->port() : 0; }

} // namespace relais
