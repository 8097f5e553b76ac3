#include "plugins/instance.hpp"

#include "core/utf8.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <filesystem>
#include <future>

namespace relais {

PluginInstance::PluginInstance(const LoadedPlugin &plugin, const InstanceConfig &config, HostServices services)
    : plugin_(plugin), config_(config), services_(std::move(services)),
      level_(config.level ? *config.level : static_cast<Level>(plugin.info->default_level)) {
    data_dir_ = (std::filesystem::path(services_.data_dir) / "instances" / config_.id).string();
}

PluginInstance::~PluginInstance() {
    stop();
    if (self_) plugin_.info->destroy(self_);
}

bool PluginInstance::create(std::string &error) {
    char err[1024] = {0};
    self_ = plugin_.info->create(handle(), &api(), err, sizeof err);
    if (!self_) {
        error = err[0] ? err : "the plugin refused to start without saying why";
        state_ = "failed";
        return false;
    }
    return true;
}

bool PluginInstance::start(std::string &error) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir_, ec);
    if (ec) {
        error = "cannot create its data folder " + data_dir_ + ": " + ec.message();
        state_ = "failed";
        return false;
    }
    emitting_ = true;
    char err[1024] = {0};
    if (plugin_.info->start(self_, err, sizeof err) != 0) {
        emitting_ = false;
        error = err[0] ? err : "start failed without a reason";
        state_ = "failed";
        return false;
    }
    state_ = "running";
    return true;
}

void PluginInstance::stop() {
    if (state_ != "running") return;
    plugin_.info->stop(self_);
    emitting_ = false;
    state_ = "stopped";
}

namespace {
// `done` is called exactly once, also when accepting throws before the message reaches the outbox.
struct Once {
    HostServices::Emitted done;
    std::atomic<bool> called{false};
    void operator()(int r) {
        if (!called.exchange(true)) done(r);
    }
};

// Calls `accept` with a callback that hands its result to `done` once; accepting that throws answers STORAGE.
template <class Accept>
void accept_once(const std::string &instance, const std::string &what, HostServices::Emitted done, Accept accept) {
    auto once = std::make_shared<Once>();
    once->done = std::move(done);
    try {
        accept([once](int r) { (*once)(r); });
    } catch (const std::exception &e) {
        spdlog::error("[{}] could not accept {}: {}", instance, what, e.what());
        (*once)(RELAIS_E_STORAGE);
    }
}
} // namespace

bool PluginInstance::may_emit(HostServices::Emitted &done) {
    if (!emitting_ || !services_.emit) {
        done(RELAIS_E_STOPPING);
        return false;
    }
    if (!(plugin_.info->capabilities & RELAIS_CAP_SOURCE)) {
        spdlog::warn("[{}] emitted a message but plugin {} is not declared a source; ignored", id(), plugin_.name);
        done(RELAIS_E_INVALID);
        return false;
    }
    return true;
}

void PluginInstance::emit(const relais_message *m, HostServices::Emitted done) {
    if (!m) return done(RELAIS_E_INVALID);
    if (!may_emit(done)) return;
    accept_once(id(), "a message", std::move(done),
                [&](HostServices::Emitted stored) { services_.emit(config_.id, from_c(*m), std::move(stored)); });
}

void PluginInstance::emit_batch(const relais_message *const *ms, size_t count, HostServices::Emitted done) {
    if (count == 0) return done(RELAIS_OK);
    if (!ms) return done(RELAIS_E_INVALID);
    for (size_t i = 0; i < count; ++i)
        if (!ms[i]) return done(RELAIS_E_INVALID);
    if (!may_emit(done)) return;
    if (!services_.emit_batch) return done(RELAIS_E_STOPPING);
    accept_once(id(), "a batch of " + std::to_string(count) + " message(s)", std::move(done),
                [&](HostServices::Emitted stored) {
                    std::vector<Message> messages;
                    messages.reserve(count);
                    for (size_t i = 0; i < count; ++i) messages.push_back(from_c(*ms[i]));
                    services_.emit_batch(config_.id, std::move(messages), std::move(stored));
                });
}

namespace {
DeliveryOutcome outcome_of(const relais_deliver_result &r) {
    DeliveryOutcome out;
    out.status = static_cast<relais_deliver_status>(r.status);
    if (out.status != RELAIS_DELIVERED && out.status != RELAIS_RETRY && out.status != RELAIS_FAILED) {
        out.status = RELAIS_FAILED;
        out.error = "the plugin answered an unknown status " + std::to_string(r.status);
        return out;
    }
    out.retry_after_ms = r.retry_after_ms;
    out.native_id = to_string(r.native_id); // kept as given: the network may need its id back byte for byte
    out.error = to_string(r.error);
    // The reason is shown as JSON (the admin API's dead letters) and in the log: UTF-8 only.
    if (!valid_utf8(out.error)) out.error = repair_utf8(out.error);
    return out;
}
} // namespace

DeliveryOutcome PluginInstance::deliver(const DeliveryJob &job, const std::string &reply_to) {
    MessageView view(job.message);
    relais_delivery d{sizeof(relais_delivery), to_c(job.channel), to_c(job.rendered), to_c(job.delivery_key),
                      job.attempts, to_c(reply_to)};
    relais_deliver_result r{};
    r.struct_size = sizeof r;
    plugin_.info->deliver(self_, view.get(), &d, &r);
    return outcome_of(r);
}

std::vector<DeliveryOutcome> PluginInstance::deliver_batch(const std::vector<const DeliveryJob *> &jobs) {
    const size_t n = jobs.size();
    std::deque<MessageView> views; // views borrow their message and never move
    std::vector<relais_delivery> deliveries(n);
    std::vector<relais_deliver_result> results(n);
    std::vector<const relais_message *> message_ptrs(n);
    std::vector<const relais_delivery *> delivery_ptrs(n);
    std::vector<relais_deliver_result *> result_ptrs(n);
    for (size_t i = 0; i < n; ++i) {
        const DeliveryJob &job = *jobs[i];
        message_ptrs[i] = views.emplace_back(job.message).get();
        deliveries[i] = relais_delivery{sizeof(relais_delivery), to_c(job.channel), to_c(job.rendered),
                                        to_c(job.delivery_key), job.attempts, relais_str{nullptr, 0}};
        delivery_ptrs[i] = &deliveries[i];
        results[i] = relais_deliver_result{};
        results[i].struct_size = sizeof(relais_deliver_result);
        result_ptrs[i] = &results[i];
    }
    plugin_.batch_deliver()(self_, message_ptrs.data(), delivery_ptrs.data(), result_ptrs.data(), n);
    std::vector<DeliveryOutcome> out;
    for (size_t i = 0; i < n; ++i) {
        out.push_back(outcome_of(results[i]));
        if (out.back().status != RELAIS_DELIVERED) break;
    }
    return out;
}

bool PluginInstance::search(const SearchRequest &request, std::vector<SearchHit> &hits, std::string &error) {
    if (!plugin_.info->search) {
        error = "instance " + id() + " cannot search";
        return false;
    }
    relais_search s{sizeof(relais_search), to_c(request.query), request.limit, request.order};
    char err[1024] = {0};
    auto on_hit = [](void *user, const relais_message *m, relais_str snippet, double score) {
        SearchHit hit{from_c(*m), to_string(snippet), score};
        repair_utf8(hit.message); // hits are shown as JSON (the admin API, `relais archive search`)
        if (!valid_utf8(hit.snippet)) hit.snippet = repair_utf8(hit.snippet);
        static_cast<std::vector<SearchHit> *>(user)->push_back(std::move(hit));
    };
    if (plugin_.info->search(self_, &s, on_hit, &hits, err, sizeof err) != 0) {
        error = err[0] ? err : "the search failed without a reason";
        return false;
    }
    return true;
}

YAML::Node PluginInstance::config_node(const std::string &path) const {
    // Walks with reset(): assigning one YAML::Node to another would overwrite the tree.
    YAML::Node cur;
    cur.reset(config_.config);
    size_t start = 0;
    while (start <= path.size()) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!cur || cur.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
        if (cur.IsSequence()) {
            char *end = nullptr;
            unsigned long i = std::strtoul(part.c_str(), &end, 10);
            if (part.empty() || *end || i >= cur.size()) return YAML::Node(YAML::NodeType::Undefined);
            YAML::Node item = cur[i];
            cur.reset(item);
        } else if (cur.IsMap()) {
            bool found = false;
            for (auto it = cur.begin(); it != cur.end(); ++it)
                if (it->first.as<std::string>("") == part) {
                    YAML::Node next = it->second;
                    cur.reset(next);
                    found = true;
                    break;
                }
            if (!found) return YAML::Node(YAML::NodeType::Undefined);
        } else {
            return YAML::Node(YAML::NodeType::Undefined);
        }
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

std::string PluginInstance::default_value(const std::string &path) const {
    for (const relais_config_key *k : plugin_.config_keys())
        if (k->name && path == k->name && k->default_value) return k->default_value;
    return {};
}

const relais_host_api &PluginInstance::api() {
    static const relais_host_api table = [] {
        relais_host_api a{};
        a.struct_size = sizeof(relais_host_api);
        a.config_get = [](relais_host *h, const char *path, relais_str *out) -> int {
            PluginInstance *s = self(h);
            YAML::Node n = s->config_node(path);
            std::string value;
            if (!n.IsDefined() || n.IsNull()) {
                value = s->default_value(path);
                bool declared_default = false;
                for (const relais_config_key *k : s->plugin_.config_keys())
                    if (k->name && std::string(path) == k->name && k->default_value) declared_default = true;
                if (!declared_default) return RELAIS_NOT_FOUND;
            } else if (!n.IsScalar()) {
                return RELAIS_E_TYPE;
            } else {
                std::string error;
                if (!expand_references(n.Scalar(), value, error)) {
                    spdlog::error("[{}] config {}: {}", s->id(), path, error);
                    return RELAIS_NOT_FOUND;
                }
            }
            std::lock_guard lock(s->scratch_mutex_);
            std::string &slot = s->scratch_[path];
            slot = std::move(value); // stays valid until the same path is read again
            *out = to_c(slot);
            return RELAIS_OK;
        };
        a.config_size = [](relais_host *h, const char *path) -> size_t {
            YAML::Node n = self(h)->config_node(path);
            return (n.IsSequence() || n.IsMap()) ? n.size() : 0;
        };
        a.config_key = [](relais_host *h, const char *path, size_t index, relais_str *out) -> int {
            PluginInstance *s = self(h);
            YAML::Node n = s->config_node(path);
            if (!n.IsMap() || index >= n.size()) return RELAIS_NOT_FOUND;
            auto it = n.begin();
            std::advance(it, static_cast<long>(index));
            std::lock_guard lock(s->scratch_mutex_);
            std::string &slot = s->scratch_[std::string("\x01key:") + path + ":" + std::to_string(index)];
            slot = it->first.as<std::string>("");
            *out = to_c(slot);
            return RELAIS_OK;
        };
        a.instance_id = [](relais_host *h) { return to_c(self(h)->config_.id); };
        a.data_dir = [](relais_host *h) { return to_c(self(h)->data_dir_); };
        a.emit = [](relais_host *h, const relais_message *m) -> int {
            std::promise<int> stored;
            auto result = stored.get_future();
            self(h)->emit(m, [&stored](int r) { stored.set_value(r); });
            return result.get();
        };
        a.emit_async = [](relais_host *h, const relais_message *m, relais_emit_done_fn done, void *user) {
            if (!done) { // nobody to tell: refuse rather than accept a message no one can follow
                spdlog::warn("[{}] called emit_async without a callback; the message was not accepted", self(h)->id());
                return;
            }
            self(h)->emit(m, [done, user](int r) { done(user, r); });
        };
        a.emit_batch = [](relais_host *h, const relais_message *const *ms, size_t count) -> int {
            std::promise<int> stored;
            auto result = stored.get_future();
            self(h)->emit_batch(ms, count, [&stored](int r) { stored.set_value(r); });
            return result.get();
        };
        a.log = [](relais_host *h, int32_t level, relais_str text) {
            auto lvl = level <= RELAIS_LOG_DEBUG  ? spdlog::level::debug
                       : level == RELAIS_LOG_INFO ? spdlog::level::info
                       : level == RELAIS_LOG_WARN ? spdlog::level::warn
                                                  : spdlog::level::err;
            spdlog::log(lvl, "[{}] {}", self(h)->config_.id, to_view(text));
        };
        auto metric = [](relais_host *h, const char *name, Metrics::Type type) -> Metric * {
            PluginInstance *s = self(h);
            if (!s->services_.metrics || !name) return nullptr;
            std::lock_guard lock(s->metrics_mutex_);
            Metric *&m = s->plugin_metrics_[name];
            if (!m) {
                std::string clean;
                for (const char *p = name; *p; ++p)
                    clean += (std::isalnum(static_cast<unsigned char>(*p)) ? static_cast<char>(std::tolower(*p)) : '_');
                m = &s->services_.metrics->get("relais_plugin_" + clean, {{"instance", s->config_.id}}, type);
            }
            return m;
        };
        static decltype(metric) metric_fn = metric;
        a.counter_add = [](relais_host *h, const char *name, double d) {
            if (Metric *m = metric_fn(h, name, Metrics::Type::counter)) m->add(d);
        };
        a.gauge_set = [](relais_host *h, const char *name, double v) {
            if (Metric *m = metric_fn(h, name, Metrics::Type::gauge)) m->set(v);
        };
        a.kv_get = [](relais_host *h, relais_str key, relais_str_fn fn, void *user) -> int {
            PluginInstance *s = self(h);
            if (!s->services_.kv) return RELAIS_E_STORAGE;
            auto v = s->services_.kv->get(s->config_.id, to_view(key));
            if (!v) return RELAIS_NOT_FOUND;
            fn(user, to_c(*v));
            return RELAIS_OK;
        };
        a.kv_put = [](relais_host *h, relais_str key, relais_str value) -> int {
            PluginInstance *s = self(h);
            if (!s->services_.kv) return RELAIS_E_STORAGE;
            return s->services_.kv->put(s->config_.id, to_view(key), to_view(value)) ? RELAIS_OK : RELAIS_E_STORAGE;
        };
        a.kv_delete = [](relais_host *h, relais_str key) -> int {
            PluginInstance *s = self(h);
            if (!s->services_.kv) return RELAIS_E_STORAGE;
            return s->services_.kv->erase(s->config_.id, to_view(key)) ? RELAIS_OK : RELAIS_E_STORAGE;
        };
        a.timer_start = [](relais_host *h, uint64_t delay, uint64_t interval, relais_timer_fn fn,
                           void *user) -> uint64_t {
            PluginInstance *s = self(h);
            if (!s->services_.timers) return 0;
            return s->services_.timers->start(delay, interval, [fn, user] { fn(user); });
        };
        a.timer_cancel = [](relais_host *h, uint64_t id) {
            if (self(h)->services_.timers) self(h)->services_.timers->cancel(id);
        };
        return a;
    }();
    return table;
}

} // namespace relais
