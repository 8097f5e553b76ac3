// relais/plugin.hpp — the comfortable C++ layer over relais/plugin.h. Header-only, standard library only.
//
// A connector is a class and one macro:
//
//   class Echo : public relais::Plugin {
//   public:
//       explicit Echo(relais::Host &host) : Plugin(host), prefix_(host.config_string("prefix")) {}
//       relais::DeliverResult deliver(const relais::Message &m, const relais::Delivery &d) override {
//           host().log_info(prefix_ + d.rendered);
//           return relais::DeliverResult::ok();
//       }
//   private:
//       std::string prefix_;
//   };
//   static const relais_config_key echo_keys[] = {{"prefix", RELAIS_CONFIG_STRING, "> ", 0, "put before each line"}};
//   RELAIS_PLUGIN(Echo, "echo", "1.0.0", "Logs what it is given", RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, echo_keys)
//
// Exceptions thrown by the class are caught here and never cross into the host.
#pragma once

#include <relais/message.hpp>
#include <relais/plugin.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace relais {

// Thrown from a plugin's constructor for a bad config value; `path` is the dotted key ("feeds.2.url"),
// so the host can show the error at that key's line and column.
class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string &path, const std::string &what) : std::runtime_error(path + ": " + what) {}
};

struct Delivery {
    std::string channel;
    std::string rendered;
    std::string delivery_key;
    uint32_t attempt = 1;
    std::string reply_to;
};

// One delivery of a batch. A plugin that can deliver many messages in one go (one commit, one write) declares
//     std::vector<relais::DeliverResult> deliver_batch(const std::vector<relais::BatchItem> &items);
// in its class; RELAIS_PLUGIN then offers it to the host (ABI 1.1), which calls it when a backlog builds up. Answer
// in order; the host reads the results up to the first that is not delivered and offers the rest again later, so
// returning fewer results than items is fine.
struct BatchItem {
    Message message;
    Delivery delivery;
};

struct DeliverResult {
    relais_deliver_status status = RELAIS_DELIVERED;
    uint32_t retry_after_ms = 0;
    std::string native_id;
    std::string error;

    static DeliverResult ok(std::string native_id = {}) { return {RELAIS_DELIVERED, 0, std::move(native_id), {}}; }
    static DeliverResult retry(std::string error, uint32_t after_ms = 0) {
        return {RELAIS_RETRY, after_ms, {}, std::move(error)};
    }
    static DeliverResult failed(std::string error) { return {RELAIS_FAILED, 0, {}, std::move(error)}; }
};

struct SearchRequest {
    std::string query;
    uint32_t limit = 20;
    relais_search_order order = RELAIS_SEARCH_NEWEST;
};

struct SearchHit {
    Message message;
    std::string snippet;
    double score = 0;
};

// Parses "250ms", "30s", "5m", "2h", "1d" or a plain number of seconds into milliseconds.
inline std::optional<uint64_t> parse_duration_ms(std::string_view s) {
    if (s.empty()) return std::nullopt;
    size_t i = 0;
    double value = 0, scale = 1;
    bool digits = false, dot = false;
    for (; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot)); ++i) {
        if (s[i] == '.') {
            dot = true;
            continue;
        }
        digits = true;
        if (dot) {
            scale /= 10;
            value += (s[i] - '0') * scale;
        } else {
            value = value * 10 + (s[i] - '0');
        }
    }
    if (!digits) return std::nullopt;
    std::string_view unit = s.substr(i);
    double ms;
    if (unit.empty() || unit == "s") ms = value * 1000;
    else if (unit == "ms") ms = value;
    else if (unit == "m") ms = value * 60'000;
    else if (unit == "h") ms = value * 3'600'000;
    else if (unit == "d") ms = value * 86'400'000;
    else return std::nullopt;
    return static_cast<uint64_t>(ms);
}

// The host, as a plugin instance sees it. Cheap to copy; valid from the constructor to destruction.
class Host {
public:
    Host(relais_host *host, const relais_host_api *api) : host_(host), api_(api) {}

    // Config: the host has already checked the declared types, so these throw ConfigError only for keys
    // that were not declared or for items inside lists and maps.
    bool config_has(const std::string &path) const {
        relais_str s{};
        return api_->config_get(host_, path.c_str(), &s) == RELAIS_OK || api_->config_size(host_, path.c_str()) > 0;
    }
    std::optional<std::string> config_optional(const std::string &path) const {
        relais_str s{};
        int rc = api_->config_get(host_, path.c_str(), &s);
        if (rc == RELAIS_E_TYPE) throw ConfigError(path, "expected a single value, not a list or map");
        if (rc != RELAIS_OK) return std::nullopt;
        return to_string(s);
    }
    std::string config_string(const std::string &path, const std::string &fallback = {}) const {
        return config_optional(path).value_or(fallback);
    }
    std::string config_required(const std::string &path) const {
        auto v = config_optional(path);
        if (!v || v->empty()) throw ConfigError(path, "is required");
        return *v;
    }
    int64_t config_int(const std::string &path, int64_t fallback = 0) const {
        auto v = config_optional(path);
        if (!v) return fallback;
        try {
            size_t used = 0;
            int64_t n = std::stoll(*v, &used);
            if (used == v->size()) return n;
        } catch (const std::exception &) {
        }
        throw ConfigError(path, "expected a whole number, got \"" + *v + "\"");
    }
    double config_double(const std::string &path, double fallback = 0) const {
        auto v = config_optional(path);
        if (!v) return fallback;
        try {
            size_t used = 0;
            double n = std::stod(*v, &used);
            if (used == v->size()) return n;
        } catch (const std::exception &) {
        }
        throw ConfigError(path, "expected a number, got \"" + *v + "\"");
    }
    bool config_bool(const std::string &path, bool fallback = false) const {
        auto v = config_optional(path);
        if (!v) return fallback;
        if (*v == "true" || *v == "yes" || *v == "on") return true;
        if (*v == "false" || *v == "no" || *v == "off") return false;
        throw ConfigError(path, "expected true or false, got \"" + *v + "\"");
    }
    uint64_t config_duration_ms(const std::string &path, uint64_t fallback_ms) const {
        auto v = config_optional(path);
        if (!v) return fallback_ms;
        auto ms = parse_duration_ms(*v);
        if (!ms) throw ConfigError(path, "expected a duration such as 30s, 5m or 1h, got \"" + *v + "\"");
        return *ms;
    }
    size_t config_size(const std::string &path) const { return api_->config_size(host_, path.c_str()); }
    std::vector<std::string> config_strings(const std::string &path) const {
        std::vector<std::string> out;
        size_t n = config_size(path);
        if (n == 0) {
            if (auto one = config_optional(path)) out.push_back(*one); // a single value stands for a list of one
            return out;
        }
        for (size_t i = 0; i < n; ++i) out.push_back(config_required(path + "." + std::to_string(i)));
        return out;
    }
    std::vector<std::string> config_keys(const std::string &path) const {
        std::vector<std::string> out;
        size_t n = config_size(path);
        for (size_t i = 0; i < n; ++i) {
            relais_str s{};
            if (api_->config_key(host_, path.c_str(), i, &s) == RELAIS_OK) out.push_back(to_string(s));
        }
        return out;
    }

    std::string instance_id() const { return to_string(api_->instance_id(host_)); }
    std::string data_dir() const { return to_string(api_->data_dir(host_)); }

    // RELAIS_OK once the host has accepted the message; otherwise keep it and offer it again later.
    int emit(const Message &m) const {
        MessageView view(m);
        return api_->emit(host_, view.get());
    }

    // emit() without waiting: `done` gets its result once the message is stored (RELAIS_OK) or refused. It runs
    // on a host thread, must return quickly and must not emit; it may run after stop(), never after the plugin
    // is destroyed. A host older than ABI 1.2 has no asynchronous emit: then this waits, and calls done itself.
    void emit_async(const Message &m, std::function<void(int result)> done) const {
        MessageView view(m);
        if (!has_emit_async()) {
            done(api_->emit(host_, view.get()));
            return;
        }
        auto *holder = new std::function<void(int)>(std::move(done));
        api_->emit_async(host_, view.get(), &Host::run_emit_done, holder);
    }
    bool has_emit_async() const {
        return api_->struct_size >= offsetof(relais_host_api, emit_async) + sizeof(api_->emit_async) &&
               api_->emit_async != nullptr;
    }

    // emit() for several messages at once, in order, stored in one commit: RELAIS_OK when all are accepted, and
    // `accepted` (when given) is how many of the first the host answers for; keep the others and offer them again
    // later, in order. A host older than ABI 1.3 takes them one emit() at a time, stopping at the first refusal.
    int emit_batch(const std::vector<Message> &ms, size_t *accepted = nullptr) const {
        size_t done = 0;
        int rc = RELAIS_OK;
        if (has_emit_batch()) {
            std::deque<MessageView> views; // a view points into itself: a deque never moves it
            std::vector<const relais_message *> pointers;
            pointers.reserve(ms.size());
            for (const Message &m : ms) pointers.push_back(views.emplace_back(m).get());
            rc = api_->emit_batch(host_, pointers.data(), pointers.size());
            done = rc == RELAIS_OK ? ms.size() : 0;
        } else {
            while (done < ms.size() && (rc = emit(ms[done])) == RELAIS_OK) ++done;
        }
        if (accepted) *accepted = done;
        return rc;
    }
    bool has_emit_batch() const {
        return api_->struct_size >= offsetof(relais_host_api, emit_batch) + sizeof(api_->emit_batch) &&
               api_->emit_batch != nullptr;
    }

    void log(relais_log_level level, std::string_view text) const { api_->log(host_, level, to_c(text)); }
    void log_debug(std::string_view text) const { log(RELAIS_LOG_DEBUG, text); }
    void log_info(std::string_view text) const { log(RELAIS_LOG_INFO, text); }
    void log_warn(std::string_view text) const { log(RELAIS_LOG_WARN, text); }
    void log_error(std::string_view text) const { log(RELAIS_LOG_ERROR, text); }

    void counter_add(const char *name, double delta = 1) const { api_->counter_add(host_, name, delta); }
    void gauge_set(const char *name, double value) const { api_->gauge_set(host_, name, value); }

    std::optional<std::string> kv_get(std::string_view key) const {
        std::optional<std::string> out;
        auto sink = [](void *user, relais_str v) { *static_cast<std::optional<std::string> *>(user) = to_string(v); };
        if (api_->kv_get(host_, to_c(key), sink, &out) != RELAIS_OK) return std::nullopt;
        return out;
    }
    bool kv_put(std::string_view key, std::string_view value) const {
        return api_->kv_put(host_, to_c(key), to_c(value)) == RELAIS_OK;
    }
    bool kv_delete(std::string_view key) const { return api_->kv_delete(host_, to_c(key)) == RELAIS_OK; }

    // The callback runs on a host thread. Cancel every timer before the plugin is destroyed (Plugin does it).
    uint64_t timer_start(uint64_t delay_ms, uint64_t interval_ms, std::function<void()> fn) {
        auto holder = std::make_shared<TimerHolder>();
        holder->fn = std::move(fn);
        holder->host = host_;
        holder->api = api_;
        uint64_t id = api_->timer_start(host_, delay_ms, interval_ms, &Host::run_timer, holder.get());
        std::lock_guard lock(timers_->mutex);
        timers_->by_id[id] = holder;
        return id;
    }
    void timer_cancel(uint64_t id) {
        api_->timer_cancel(host_, id); // after this returns the callback neither runs nor will run
        std::lock_guard lock(timers_->mutex);
        timers_->by_id.erase(id);
    }
    void cancel_all_timers() {
        std::map<uint64_t, std::shared_ptr<TimerHolder>> all;
        {
            std::lock_guard lock(timers_->mutex);
            all.swap(timers_->by_id);
        }
        for (auto &[id, holder] : all) api_->timer_cancel(host_, id);
    }

    relais_host *c_host() const { return host_; }
    const relais_host_api *c_api() const { return api_; }

private:
    struct TimerHolder {
        std::function<void()> fn;
        relais_host *host = nullptr;
        const relais_host_api *api = nullptr;
    };
    struct Timers {
        std::mutex mutex;
        std::map<uint64_t, std::shared_ptr<TimerHolder>> by_id;
    };
    static void run_emit_done(void *user, int result) {
        std::unique_ptr<std::function<void(int)>> done(static_cast<std::function<void(int)> *>(user));
        try {
            (*done)(result);
        } catch (...) {
            // No exception may cross into the host's thread; the callback is the plugin's to make safe.
        }
    }
    static void run_timer(void *user) {
        auto *t = static_cast<TimerHolder *>(user);
        try {
            t->fn();
        } catch (const std::exception &e) {
            std::string text = std::string("timer callback failed: ") + e.what();
            t->api->log(t->host, RELAIS_LOG_ERROR, to_c(text));
        } catch (...) {
            t->api->log(t->host, RELAIS_LOG_ERROR, to_c("timer callback failed with an unknown exception"));
        }
    }

    relais_host *host_;
    const relais_host_api *api_;
    std::shared_ptr<Timers> timers_ = std::make_shared<Timers>();
};

// Base class of a connector. Override what the plugin's capabilities need.
class Plugin {
public:
    explicit Plugin(Host &host) : host_(host) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin &) = delete;
    Plugin &operator=(const Plugin &) = delete;

    // Connect, listen, start timers. Throw to refuse to start; the message reaches the user.
    virtual void start() {}
    virtual DeliverResult deliver(const Message &, const Delivery &) {
        return DeliverResult::failed("this plugin does not accept deliveries");
    }
    virtual std::vector<SearchHit> search(const SearchRequest &) {
        throw std::runtime_error("this plugin does not answer searches");
    }
    // Stop emitting; close connections. Timers are cancelled by the layer after this returns.
    virtual void stop() {}

    Host &host() { return host_; }

private:
    Host host_;
};

namespace detail {

inline void write_error(char *err, size_t err_len, const char *what) {
    if (!err || err_len == 0) return;
    std::snprintf(err, err_len, "%s", what);
}

// Whether a plugin class declares std::vector<DeliverResult> deliver_batch(const std::vector<BatchItem> &).
template <class T, class = void>
struct has_deliver_batch : std::false_type {};
template <class T>
struct has_deliver_batch<T, std::void_t<decltype(std::declval<T &>().deliver_batch(
                                std::declval<const std::vector<BatchItem> &>()))>>
    : std::is_same<decltype(std::declval<T &>().deliver_batch(std::declval<const std::vector<BatchItem> &>())),
                   std::vector<DeliverResult>> {};

template <class T>
struct Adapter {
    struct Instance {
        Host host;
        std::unique_ptr<T> plugin;
        std::string native_id, error; // keep the result's strings alive until deliver() returns
        std::vector<DeliverResult> batch_results; // the same, for deliver_batch()
    };
    static constexpr bool batches = has_deliver_batch<T>::value;

    static void *create(relais_host *h, const relais_host_api *api, char *err, size_t err_len) {
        try {
            auto inst = std::make_unique<Instance>(Instance{Host(h, api), nullptr, {}, {}, {}});
            inst->plugin = std::make_unique<T>(inst->host);
            return inst.release();
        } catch (const std::exception &e) {
            write_error(err, err_len, e.what());
        } catch (...) {
            write_error(err, err_len, "unknown error while creating the plugin instance");
        }
        return nullptr;
    }
    static int start(void *self, char *err, size_t err_len) {
        try {
            static_cast<Instance *>(self)->plugin->start();
            return 0;
        } catch (const std::exception &e) {
            write_error(err, err_len, e.what());
        } catch (...) {
            write_error(err, err_len, "unknown error while starting");
        }
        return -1;
    }
    static void deliver(void *self, const relais_message *m, const relais_delivery *d, relais_deliver_result *r) {
        auto *inst = static_cast<Instance *>(self);
        try {
            Delivery del{to_string(d->channel), to_string(d->rendered), to_string(d->delivery_key), d->attempt,
                         to_string(d->reply_to)};
            DeliverResult res = inst->plugin->deliver(from_c(*m), del);
            inst->native_id = std::move(res.native_id);
            inst->error = std::move(res.error);
            r->status = res.status;
            r->retry_after_ms = res.retry_after_ms;
            r->native_id = to_c(inst->native_id);
            r->error = to_c(inst->error);
        } catch (const std::exception &e) {
            inst->error = std::string("deliver threw: ") + e.what();
            r->status = RELAIS_RETRY;
            r->error = to_c(inst->error);
        } catch (...) {
            inst->error = "deliver threw an unknown exception";
            r->status = RELAIS_RETRY;
            r->error = to_c(inst->error);
        }
    }
    static void deliver_batch(void *self, const relais_message *const *m, const relais_delivery *const *d,
                              relais_deliver_result *const *r, size_t count) {
        auto *inst = static_cast<Instance *>(self);
        auto &results = inst->batch_results;
        try {
            std::vector<BatchItem> items;
            items.reserve(count);
            for (size_t i = 0; i < count; ++i)
                items.push_back({from_c(*m[i]), Delivery{to_string(d[i]->channel), to_string(d[i]->rendered),
                                                         to_string(d[i]->delivery_key), d[i]->attempt,
                                                         to_string(d[i]->reply_to)}});
            results = inst->plugin->deliver_batch(items);
        } catch (const std::exception &e) {
            results.assign(1, DeliverResult::retry(std::string("deliver_batch threw: ") + e.what()));
        } catch (...) {
            results.assign(1, DeliverResult::retry("deliver_batch threw an unknown exception"));
        }
        if (results.empty()) results.push_back(DeliverResult::retry("deliver_batch answered nothing"));
        for (size_t i = 0; i < count && i < results.size(); ++i) {
            r[i]->status = results[i].status;
            r[i]->retry_after_ms = results[i].retry_after_ms;
            r[i]->native_id = to_c(results[i].native_id);
            r[i]->error = to_c(results[i].error);
            if (results[i].status != RELAIS_DELIVERED) break;
        }
    }
    // The entry point of deliver_batch for the plugin description: null unless the class declares one.
    static constexpr auto batch_entry() {
        using Fn = decltype(relais_plugin_info::deliver_batch);
        if constexpr (batches) return static_cast<Fn>(&deliver_batch);
        else return static_cast<Fn>(nullptr);
    }
    static int search(void *self, const relais_search *s, relais_search_hit_fn hit, void *user, char *err,
                      size_t err_len) {
        try {
            SearchRequest req{to_string(s->query), s->limit, static_cast<relais_search_order>(s->order)};
            for (const SearchHit &h : static_cast<Instance *>(self)->plugin->search(req)) {
                MessageView view(h.message);
                hit(user, view.get(), to_c(h.snippet), h.score);
            }
            return 0;
        } catch (const std::exception &e) {
            write_error(err, err_len, e.what());
        } catch (...) {
            write_error(err, err_len, "unknown error while searching");
        }
        return -1;
    }
    static void stop(void *self) {
        auto *inst = static_cast<Instance *>(self);
        try {
            inst->plugin->stop();
        } catch (const std::exception &e) {
            inst->host.log_error(std::string("stop failed: ") + e.what());
        } catch (...) {
        }
        inst->plugin->host().cancel_all_timers();
    }
    static void destroy(void *self) {
        auto *inst = static_cast<Instance *>(self);
        try {
            inst->plugin.reset();
        } catch (...) {
        }
        delete inst;
    }
};

} // namespace detail
} // namespace relais

// Declares the plugin's entry point. KEYS is a static array of relais_config_key (may be empty: use
// RELAIS_PLUGIN_NO_KEYS).
#define RELAIS_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, CAPABILITIES, DEFAULT_LEVEL, KEYS)                      \
    extern "C" RELAIS_EXPORT const relais_plugin_info *relais_plugin_entry(void) {                               \
        static const relais_plugin_info info = {                                                                 \
            sizeof(relais_plugin_info),                                                                          \
            RELAIS_ABI_MAJOR,                                                                                    \
            RELAIS_ABI_MINOR,                                                                                    \
            NAME,                                                                                                \
            VERSION,                                                                                             \
            DESCRIPTION,                                                                                         \
            CAPABILITIES,                                                                                        \
            DEFAULT_LEVEL,                                                                                       \
            KEYS,                                                                                                \
            sizeof(KEYS) / sizeof(relais_config_key),                                                            \
            sizeof(relais_config_key),                                                                           \
            &relais::detail::Adapter<CLASS>::create,                                                             \
            &relais::detail::Adapter<CLASS>::start,                                                              \
            &relais::detail::Adapter<CLASS>::deliver,                                                            \
            &relais::detail::Adapter<CLASS>::search,                                                             \
            &relais::detail::Adapter<CLASS>::stop,                                                               \
            &relais::detail::Adapter<CLASS>::destroy,                                                            \
            relais::detail::Adapter<CLASS>::batch_entry(),                                                       \
        };                                                                                                       \
        return &info;                                                                                            \
    }

#define RELAIS_PLUGIN_NO_KEYS (static_cast<const relais_config_key *>(nullptr))
