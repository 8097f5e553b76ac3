// `relais plugin-runner --library PATH` (hidden): runs one shared-library plugin in its own process, speaking the
// protocol of docs/protocol.md on standard input and output. The host starts it for instances with `isolate: true`,
// so a crash in the plugin takes down this process only; the host restarts it.
#include "cli/commands.hpp"
#include "core/timers.hpp"
#include "plugins/loader.hpp"
#include "plugins/process_plugin.hpp"

#include <relais/message_json.hpp>
#include <relais/plugin.hpp>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <unistd.h>

namespace json = boost::json;

namespace relais {
namespace {

class Runner {
public:
    Runner(const LoadedPlugin &plugin, int out_fd) : plugin_(plugin), channel_(0, out_fd) {}

    int run() {
        std::thread worker([this] { work(); });
        for (;;) {
            auto msg = channel_.receive();
            if (!msg) break;
            if (auto *reply = msg->if_contains("reply")) {
                uint64_t id = reply->is_uint64() ? reply->as_uint64() : static_cast<uint64_t>(reply->to_number<int64_t>());
                std::unique_lock lock(mutex_);
                if (auto it = emits_.find(id); it != emits_.end()) { // an emit_async: its callback, off the lock
                    EmitDone done = it->second;
                    emits_.erase(it);
                    lock.unlock();
                    done.fn(done.user, code_of(msg, RELAIS_E_STORAGE));
                    continue;
                }
                if (auto it = waiting_.find(id); it != waiting_.end()) it->second = std::move(*msg);
                cv_.notify_all();
                continue;
            }
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(*msg));
            cv_.notify_all();
        }
        // The host is gone: emits it did not answer were not stored. Said before the worker may destroy the plugin.
        std::map<uint64_t, EmitDone> unanswered;
        {
            std::lock_guard lock(mutex_);
            host_gone_ = true;
            unanswered.swap(emits_);
        }
        for (auto &[id, done] : unanswered) done.fn(done.user, RELAIS_E_STOPPING);
        {
            std::lock_guard lock(mutex_);
            eof_ = true;
            cv_.notify_all();
        }
        worker.join();
        return 0;
    }

private:
    static Runner *self(relais_host *h) { return reinterpret_cast<Runner *>(h); }
    relais_host *handle() { return reinterpret_cast<relais_host *>(this); }

    // Executes the host's requests one at a time, in order.
    void work() {
        for (;;) {
            json::object req;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return eof_ || !queue_.empty(); });
                if (queue_.empty()) break;
                req = std::move(queue_.front());
                queue_.pop_front();
            }
            json::object reply = handle(req);
            if (auto *id = req.if_contains("id")) {
                reply["reply"] = *id;
                channel_.send(reply);
            }
        }
        if (self_) {
            if (started_) plugin_.info->stop(self_);
            timers_.shutdown();
            plugin_.info->destroy(self_);
        }
    }

    json::object handle(const json::object &req) {
        auto *opv = req.if_contains("op");
        std::string op = opv && opv->is_string() ? std::string(opv->as_string()) : "";
        char err[1024] = {0};
        if (op == "create") {
            if (auto *c = req.if_contains("config"); c && c->is_object()) config_ = c->as_object();
            if (auto *v = req.if_contains("instance"); v && v->is_string()) instance_ = v->as_string();
            if (auto *v = req.if_contains("data_dir"); v && v->is_string()) data_dir_ = v->as_string();
            self_ = plugin_.info->create(handle(), &api(), err, sizeof err);
            if (!self_) return {{"ok", false}, {"error", err[0] ? err : "the plugin refused its config"}};
            return {{"ok", true}};
        }
        if (!self_) return {{"ok", false}, {"error", "create first"}};
        if (op == "start") {
            if (plugin_.info->start(self_, err, sizeof err) != 0)
                return {{"ok", false}, {"error", err[0] ? err : "start failed without a reason"}};
            started_ = true;
            return {{"ok", true}};
        }
        if (op == "stop") {
            if (started_) plugin_.info->stop(self_);
            started_ = false;
            return {{"ok", true}};
        }
        if (op == "deliver") {
            Message m;
            std::string error;
            auto *mv = req.if_contains("message");
            if (!mv || !message_from_json_value(*mv, m, error)) return {{"status", "failed"}, {"error", "bad message: " + error}};
            json::object d;
            if (auto *dv = req.if_contains("delivery"); dv && dv->is_object()) d = dv->as_object();
            auto text = [&](const char *k) {
                auto *v = d.if_contains(k);
                return v && v->is_string() ? std::string(v->as_string()) : std::string();
            };
            std::string channel = text("channel"), rendered = text("rendered"), key = text("delivery_key"),
                        reply_to = text("reply_to");
            uint32_t attempt = 1;
            if (auto *a = d.if_contains("attempt"); a && a->is_number()) attempt = a->to_number<uint32_t>();
            MessageView view(m);
            relais_delivery cd{sizeof(relais_delivery), to_c(channel), to_c(rendered), to_c(key), attempt, to_c(reply_to)};
            relais_deliver_result r{};
            r.struct_size = sizeof r;
            plugin_.info->deliver(self_, view.get(), &cd, &r);
            const char *status = r.status == RELAIS_DELIVERED ? "ok" : r.status == RELAIS_RETRY ? "retry" : "failed";
            return {{"status", status}, {"native_id", to_view(r.native_id)}, {"error", to_view(r.error)},
                    {"retry_after_ms", r.retry_after_ms}};
        }
        return {{"ok", false}, {"error", "unknown op '" + op + "'"}};
    }

    // Sends a request to the host and waits for its reply.
    std::optional<json::object> call(json::object req) {
        uint64_t id;
        {
            std::lock_guard lock(mutex_);
            id = next_id_++;
            waiting_[id] = std::nullopt;
        }
        req["id"] = id;
        if (!channel_.send(req)) return std::nullopt;
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::seconds(30), [&] { return waiting_[id].has_value() || eof_; });
        auto out = std::move(waiting_[id]);
        waiting_.erase(id);
        return out;
    }

    // The config tree sent in create, read by dotted path.
    const json::value *config_at(const std::string &path) {
        const json::value *cur = nullptr;
        json::value root_holder;
        size_t start = 0;
        const json::object *obj = &config_;
        const json::array *arr = nullptr;
        for (;;) {
            size_t dot = path.find('.', start);
            std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
            if (obj) {
                cur = obj->if_contains(part);
            } else if (arr) {
                char *end = nullptr;
                unsigned long i = std::strtoul(part.c_str(), &end, 10);
                cur = (part.empty() || *end || i >= arr->size()) ? nullptr : &(*arr)[i];
            }
            if (!cur) return nullptr;
            if (dot == std::string::npos) return cur;
            obj = cur->is_object() ? &cur->as_object() : nullptr;
            arr = cur->is_array() ? &cur->as_array() : nullptr;
            if (!obj && !arr) return nullptr;
            start = dot + 1;
        }
    }

    relais_str keep(const std::string &slot, std::string value) {
        std::lock_guard lock(mutex_);
        std::string &s = scratch_[slot];
        s = std::move(value);
        return to_c(s);
    }

    // Sends an emit and returns at once; `fn` runs on the reading thread when the host answers.
    void emit_async(const relais_message &m, relais_emit_done_fn fn, void *user) {
        json::object req{{"op", "emit"}, {"message", message_to_json_value(from_c(m))}};
        uint64_t id;
        {
            std::lock_guard lock(mutex_);
            if (host_gone_) {
                id = 0;
            } else {
                id = next_id_++;
                emits_[id] = {fn, user};
            }
        }
        if (!id) return fn(user, RELAIS_E_STOPPING);
        req["id"] = id;
        if (channel_.send(req)) return;
        std::unique_lock lock(mutex_);
        if (emits_.erase(id)) { // not answered by the reading thread meanwhile: answer here, once
            lock.unlock();
            fn(user, RELAIS_E_STOPPING);
        }
    }

    static int code_of(const std::optional<json::object> &reply, int fallback) {
        if (!reply) return fallback;
        auto *c = reply->if_contains("code");
        return c && c->is_number() ? c->to_number<int>() : fallback;
    }

    static const relais_host_api &api() {
        static const relais_host_api table = [] {
            relais_host_api a{};
            a.struct_size = sizeof a;
            a.config_get = [](relais_host *h, const char *path, relais_str *out) -> int {
                const json::value *v = self(h)->config_at(path);
                if (!v || v->is_null()) return RELAIS_NOT_FOUND;
                if (v->is_object() || v->is_array()) return RELAIS_E_TYPE;
                *out = self(h)->keep(path, v->is_string() ? std::string(v->as_string()) : json::serialize(*v));
                return RELAIS_OK;
            };
            a.config_size = [](relais_host *h, const char *path) -> size_t {
                const json::value *v = self(h)->config_at(path);
                if (!v) return 0;
                return v->is_object() ? v->as_object().size() : v->is_array() ? v->as_array().size() : 0;
            };
            a.config_key = [](relais_host *h, const char *path, size_t i, relais_str *out) -> int {
                const json::value *v = self(h)->config_at(path);
                if (!v || !v->is_object() || i >= v->as_object().size()) return RELAIS_NOT_FOUND;
                auto it = v->as_object().begin() + static_cast<long>(i);
                *out = self(h)->keep(std::string("\x01key:") + path + ":" + std::to_string(i), std::string(it->key()));
                return RELAIS_OK;
            };
            a.instance_id = [](relais_host *h) { return to_c(self(h)->instance_); };
            a.data_dir = [](relais_host *h) { return to_c(self(h)->data_dir_); };
            a.emit = [](relais_host *h, const relais_message *m) -> int {
                if (!m) return RELAIS_E_INVALID;
                json::object req{{"op", "emit"}, {"message", message_to_json_value(from_c(*m))}};
                return code_of(self(h)->call(std::move(req)), RELAIS_E_STOPPING);
            };
            // The host's own emit_async and emit_batch, over the protocol: emits in flight share commits there.
            a.emit_async = [](relais_host *h, const relais_message *m, relais_emit_done_fn done, void *user) {
                if (!m) return done(user, RELAIS_E_INVALID);
                self(h)->emit_async(*m, done, user);
            };
            a.emit_batch = [](relais_host *h, const relais_message *const *ms, size_t count) -> int {
                json::array list;
                for (size_t i = 0; i < count; ++i) {
                    if (!ms[i]) return RELAIS_E_INVALID;
                    list.push_back(message_to_json_value(from_c(*ms[i])));
                }
                json::object req{{"op", "emit_batch"}, {"messages", std::move(list)}};
                return code_of(self(h)->call(std::move(req)), RELAIS_E_STOPPING);
            };
            a.log = [](relais_host *h, int32_t level, relais_str text) {
                const char *l = level <= RELAIS_LOG_DEBUG ? "debug" : level == RELAIS_LOG_INFO ? "info"
                                : level == RELAIS_LOG_WARN ? "warn" : "error";
                self(h)->channel_.send({{"op", "log"}, {"level", l}, {"text", to_view(text)}});
            };
            a.counter_add = [](relais_host *h, const char *name, double d) {
                self(h)->channel_.send({{"op", "metric"}, {"kind", "counter"}, {"name", name}, {"value", d}});
            };
            a.gauge_set = [](relais_host *h, const char *name, double v) {
                self(h)->channel_.send({{"op", "metric"}, {"kind", "gauge"}, {"name", name}, {"value", v}});
            };
            a.kv_get = [](relais_host *h, relais_str key, relais_str_fn fn, void *user) -> int {
                auto reply = self(h)->call({{"op", "kv_get"}, {"key", to_view(key)}});
                int code = code_of(reply, RELAIS_E_STORAGE);
                if (code != RELAIS_OK) return code;
                auto *v = reply->if_contains("value");
                std::string value = v && v->is_string() ? std::string(v->as_string()) : std::string();
                fn(user, to_c(value));
                return RELAIS_OK;
            };
            a.kv_put = [](relais_host *h, relais_str key, relais_str value) -> int {
                return code_of(self(h)->call({{"op", "kv_put"}, {"key", to_view(key)}, {"value", to_view(value)}}),
                               RELAIS_E_STORAGE);
            };
            a.kv_delete = [](relais_host *h, relais_str key) -> int {
                return code_of(self(h)->call({{"op", "kv_delete"}, {"key", to_view(key)}}), RELAIS_E_STORAGE);
            };
            a.timer_start = [](relais_host *h, uint64_t delay, uint64_t interval, relais_timer_fn fn, void *user) -> uint64_t {
                return self(h)->timers_.start(delay, interval, [fn, user] { fn(user); });
            };
            a.timer_cancel = [](relais_host *h, uint64_t id) { self(h)->timers_.cancel(id); };
            return a;
        }();
        return table;
    }

    const LoadedPlugin &plugin_;
    LineChannel channel_;
    Timers timers_{1};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<json::object> queue_;
    std::map<uint64_t, std::optional<json::object>> waiting_;
    struct EmitDone {
        relais_emit_done_fn fn;
        void *user;
    };
    std::map<uint64_t, EmitDone> emits_; // emit_async calls the host has not answered yet
    std::map<std::string, std::string> scratch_;
    uint64_t next_id_ = 1;
    bool eof_ = false, started_ = false, host_gone_ = false;
    json::object config_;
    std::string instance_, data_dir_;
    void *self_ = nullptr;
};

} // namespace

int cmd_plugin_runner(const std::string &library) {
    PluginCatalog catalog;
    catalog.load_file(library);
    if (catalog.plugins().empty()) {
        std::fprintf(stderr, "relais plugin-runner: %s: %s\n", library.c_str(),
                     catalog.refused().empty() ? "not loaded" : catalog.refused().front().reason.c_str());
        return 2;
    }
    // The protocol gets its own copy of stdout; what the plugin itself prints (the console plugin, a stray printf)
    // goes to stderr, so it cannot corrupt the protocol.
    int out_fd = ::dup(1);
    if (out_fd < 0 || ::dup2(2, 1) < 0) {
        std::perror("relais plugin-runner: cannot set up its output");
        return 2;
    }
    Runner runner(catalog.plugins().begin()->second, out_fd);
    return runner.run();
}

} // namespace relais
