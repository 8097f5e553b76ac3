// relais/testing/fake_host.hpp — a host in a box, for a plugin's own tests. Header-only.
//
// It drives a plugin through the real C ABI (the plugin's relais_plugin_entry), with the config given as dotted
// paths, and records what the plugin emits, logs and stores. Timers do not run by themselves: call
// run_timers() to fire every active timer once.
//
//   relais::testing::FakeHost host(relais_plugin_entry(), {{"url", "http://127.0.0.1:8080/feed.xml"}});
//   host.start();
//   host.run_timers();
//   REQUIRE(host.emitted().size() == 3);
#pragma once

#include <relais/plugin.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace relais::testing {

class FakeHost {
public:
    using Config = std::vector<std::pair<std::string, std::string>>; // dotted path → scalar value

    FakeHost(const relais_plugin_info *info, Config config, std::string instance_id = "test",
             std::string data_dir = "/tmp")
        : info_(info), config_(std::move(config)), instance_id_(std::move(instance_id)),
          data_dir_(std::move(data_dir)) {
        for (size_t i = 0; i < info_->config_keys_len; ++i) {
            const auto *key = reinterpret_cast<const relais_config_key *>(
                reinterpret_cast<const char *>(info_->config_keys) + i * info_->config_key_size);
            if (key->default_value && !has_path(key->name)) config_.emplace_back(key->name, key->default_value);
        }
        api_ = relais_host_api{};
        api_.struct_size = sizeof(relais_host_api);
        api_.config_get = &FakeHost::c_config_get;
        api_.config_size = &FakeHost::c_config_size;
        api_.config_key = &FakeHost::c_config_key;
        api_.instance_id = [](relais_host *h) { return to_c(self(h)->instance_id_); };
        api_.data_dir = [](relais_host *h) { return to_c(self(h)->data_dir_); };
        api_.emit = &FakeHost::c_emit;
        // As the host does once the message is stored; here at once, on the caller's thread, unless held.
        api_.emit_async = [](relais_host *h, const relais_message *m, relais_emit_done_fn done, void *user) {
            int result = c_emit(h, m);
            {
                std::lock_guard lock(self(h)->mutex_);
                if (self(h)->hold_answers_) return self(h)->held_answers_.push_back({done, user, result});
            }
            done(user, result);
        };
        // All or none, as the host stores a batch in one commit.
        api_.emit_batch = [](relais_host *h, const relais_message *const *ms, size_t count) -> int {
            auto *s = self(h);
            std::lock_guard lock(s->mutex_);
            if (s->emit_result_ != RELAIS_OK) return s->emit_result_;
            s->emit_batch_sizes_.push_back(count);
            for (size_t i = 0; i < count; ++i) s->record_emit(*ms[i]);
            return RELAIS_OK;
        };
        api_.log = [](relais_host *h, int32_t level, relais_str text) {
            std::lock_guard lock(self(h)->mutex_);
            self(h)->logs_.emplace_back(level, to_string(text));
        };
        api_.counter_add = [](relais_host *h, const char *name, double d) {
            std::lock_guard lock(self(h)->mutex_);
            self(h)->metrics_[name] += d;
        };
        api_.gauge_set = [](relais_host *h, const char *name, double v) {
            std::lock_guard lock(self(h)->mutex_);
            self(h)->metrics_[name] = v;
        };
        api_.kv_get = [](relais_host *h, relais_str key, relais_str_fn fn, void *user) {
            std::string value;
            {
                std::lock_guard lock(self(h)->mutex_);
                auto it = self(h)->kv_.find(to_string(key));
                if (it == self(h)->kv_.end()) return RELAIS_NOT_FOUND;
                value = it->second;
            }
            fn(user, to_c(value));
            return RELAIS_OK;
        };
        api_.kv_put = [](relais_host *h, relais_str key, relais_str value) {
            std::lock_guard lock(self(h)->mutex_);
            self(h)->kv_[to_string(key)] = to_string(value);
            return RELAIS_OK;
        };
        api_.kv_delete = [](relais_host *h, relais_str key) {
            std::lock_guard lock(self(h)->mutex_);
            self(h)->kv_.erase(to_string(key));
            return RELAIS_OK;
        };
        api_.timer_start = [](relais_host *h, uint64_t, uint64_t interval, relais_timer_fn fn, void *user) {
            std::lock_guard lock(self(h)->mutex_);
            uint64_t id = ++self(h)->next_timer_;
            self(h)->timers_[id] = Timer{fn, user, interval};
            return id;
        };
        api_.timer_cancel = [](relais_host *h, uint64_t id) {
            std::lock_guard lock(self(h)->mutex_);
            self(h)->timers_.erase(id);
        };

        char err[512] = {0};
        instance_ = info_->create(reinterpret_cast<relais_host *>(this), &api_, err, sizeof err);
        if (!instance_) throw std::runtime_error(std::string("create failed: ") + err);
    }
    ~FakeHost() {
        if (!instance_) return;
        if (started_) info_->stop(instance_);
        info_->destroy(instance_);
    }
    FakeHost(const FakeHost &) = delete;
    FakeHost &operator=(const FakeHost &) = delete;

    void start() {
        char err[512] = {0};
        if (info_->start(instance_, err, sizeof err) != 0) throw std::runtime_error(std::string("start failed: ") + err);
        started_ = true;
    }
    void stop() {
        if (started_) info_->stop(instance_);
        started_ = false;
    }

    DeliverResult deliver(const Message &m, Delivery d = {}) {
        if (d.rendered.empty()) d.rendered = m.text;
        if (d.delivery_key.empty()) d.delivery_key = m.id;
        MessageView view(m);
        relais_delivery cd{sizeof(relais_delivery), to_c(d.channel), to_c(d.rendered), to_c(d.delivery_key),
                           d.attempt, to_c(d.reply_to)};
        relais_deliver_result r{};
        r.struct_size = sizeof r;
        info_->deliver(instance_, view.get(), &cd, &r);
        return DeliverResult{static_cast<relais_deliver_status>(r.status), r.retry_after_ms, to_string(r.native_id),
                             to_string(r.error)};
    }

    // Through the plugin's deliver_batch (ABI 1.1), as the host calls it when a backlog builds up; the results up
    // to the first that is not delivered. Throws if the plugin has none.
    std::vector<DeliverResult> deliver_batch(const std::vector<BatchItem> &items) {
        if (!info_->deliver_batch) throw std::logic_error("this plugin has no deliver_batch");
        const size_t n = items.size();
        std::deque<MessageView> views; // views borrow their message and never move
        std::vector<Delivery> ds(n);
        std::vector<relais_delivery> cds(n);
        std::vector<relais_deliver_result> rs(n);
        std::vector<const relais_message *> mp(n);
        std::vector<const relais_delivery *> dp(n);
        std::vector<relais_deliver_result *> rp(n);
        for (size_t i = 0; i < n; ++i) {
            ds[i] = items[i].delivery;
            if (ds[i].rendered.empty()) ds[i].rendered = items[i].message.text;
            if (ds[i].delivery_key.empty()) ds[i].delivery_key = items[i].message.id;
            mp[i] = views.emplace_back(items[i].message).get();
            cds[i] = relais_delivery{sizeof(relais_delivery), to_c(ds[i].channel), to_c(ds[i].rendered),
                                     to_c(ds[i].delivery_key), ds[i].attempt, to_c(ds[i].reply_to)};
            dp[i] = &cds[i];
            rs[i] = relais_deliver_result{};
            rs[i].struct_size = sizeof(relais_deliver_result);
            rp[i] = &rs[i];
        }
        info_->deliver_batch(instance_, mp.data(), dp.data(), rp.data(), n);
        std::vector<DeliverResult> out;
        for (size_t i = 0; i < n; ++i) {
            out.push_back({static_cast<relais_deliver_status>(rs[i].status), rs[i].retry_after_ms,
                           to_string(rs[i].native_id), to_string(rs[i].error)});
            if (out.back().status != RELAIS_DELIVERED) break;
        }
        return out;
    }

    std::vector<SearchHit> search(const std::string &query, uint32_t limit = 20,
                                  relais_search_order order = RELAIS_SEARCH_NEWEST) {
        std::vector<SearchHit> hits;
        relais_search s{sizeof(relais_search), to_c(query), limit, order};
        char err[512] = {0};
        auto on_hit = [](void *user, const relais_message *m, relais_str snippet, double score) {
            static_cast<std::vector<SearchHit> *>(user)->push_back({from_c(*m), to_string(snippet), score});
        };
        if (info_->search(instance_, &s, on_hit, &hits, err, sizeof err) != 0)
            throw std::runtime_error(std::string("search failed: ") + err);
        return hits;
    }

    // Fires every active timer once, on the calling thread.
    void run_timers() {
        std::vector<Timer> due;
        {
            std::lock_guard lock(mutex_);
            for (auto &[id, t] : timers_) due.push_back(t);
        }
        for (auto &t : due) t.fn(t.user);
    }

    std::vector<Message> emitted() const {
        std::lock_guard lock(mutex_);
        return emitted_;
    }
    std::vector<std::pair<int32_t, std::string>> logs() const {
        std::lock_guard lock(mutex_);
        return logs_;
    }
    double metric(const std::string &name) const {
        std::lock_guard lock(mutex_);
        auto it = metrics_.find(name);
        return it == metrics_.end() ? 0 : it->second;
    }
    std::map<std::string, std::string> &kv() { return kv_; }
    // Makes the next emits fail with `code` (e.g. RELAIS_E_STORAGE), to test that the plugin keeps the message.
    void fail_emits(int code) { emit_result_ = code; }
    // Acts as a host older than ABI 1.2, without emit_async nor emit_batch (the C++ layer then uses emit).
    void offer_emit_async(bool offered) {
        api_.struct_size = offered ? sizeof(relais_host_api) : offsetof(relais_host_api, emit_async);
    }
    // Acts as a host older than ABI 1.3, without emit_batch (the C++ layer's emit_batch then emits one by one).
    void offer_emit_batch(bool offered) {
        api_.struct_size = offered ? sizeof(relais_host_api) : offsetof(relais_host_api, emit_batch);
    }
    // The size of each emit_batch() call the plugin made, in order.
    std::vector<size_t> emit_batch_sizes() const {
        std::lock_guard lock(mutex_);
        return emit_batch_sizes_;
    }
    // emit_async's answers wait for answer_emits(), as the host's wait for the commit: to test what a plugin does
    // meanwhile. answer_emits() gives the held answers, oldest first, and returns how many.
    void hold_emit_answers(bool hold) {
        std::lock_guard lock(mutex_);
        hold_answers_ = hold;
    }
    size_t answer_emits() {
        std::vector<HeldAnswer> due;
        {
            std::lock_guard lock(mutex_);
            due.swap(held_answers_);
        }
        for (auto &a : due) a.done(a.user, a.result);
        return due.size();
    }
    size_t held_emit_answers() const {
        std::lock_guard lock(mutex_);
        return held_answers_.size();
    }

private:
    struct HeldAnswer {
        relais_emit_done_fn done;
        void *user;
        int result;
    };
    struct Timer {
        relais_timer_fn fn;
        void *user;
        uint64_t interval;
    };
    static FakeHost *self(relais_host *h) { return reinterpret_cast<FakeHost *>(h); }

    bool has_path(const std::string &path) const {
        return std::any_of(config_.begin(), config_.end(), [&](auto &kv) {
            return kv.first == path || kv.first.rfind(path + ".", 0) == 0;
        });
    }
    std::vector<std::string> children(const std::string &path) const {
        std::vector<std::string> out;
        std::string prefix = path.empty() ? "" : path + ".";
        for (const auto &[k, v] : config_) {
            if (k.rfind(prefix, 0) != 0 || k.size() == prefix.size()) continue;
            std::string rest = k.substr(prefix.size());
            std::string head = rest.substr(0, rest.find('.'));
            if (std::find(out.begin(), out.end(), head) == out.end()) out.push_back(head);
        }
        return out;
    }
    static int c_config_get(relais_host *h, const char *path, relais_str *out) {
        auto *s = self(h);
        for (const auto &[k, v] : s->config_)
            if (k == path) {
                *out = to_c(v);
                return RELAIS_OK;
            }
        return s->children(path).empty() ? RELAIS_NOT_FOUND : RELAIS_E_TYPE;
    }
    static size_t c_config_size(relais_host *h, const char *path) { return self(h)->children(path).size(); }
    static int c_config_key(relais_host *h, const char *path, size_t i, relais_str *out) {
        auto *s = self(h);
        auto kids = s->children(path);
        if (i >= kids.size()) return RELAIS_NOT_FOUND;
        s->key_scratch_ = kids[i];
        *out = to_c(s->key_scratch_);
        return RELAIS_OK;
    }
    static int c_emit(relais_host *h, const relais_message *m) {
        auto *s = self(h);
        std::lock_guard lock(s->mutex_);
        if (s->emit_result_ != RELAIS_OK) return s->emit_result_;
        s->record_emit(*m);
        return RELAIS_OK;
    }
    void record_emit(const relais_message &m) { // with mutex_ held
        Message msg = from_c(m);
        msg.source = instance_id_;
        msg.network = info_->name;
        emitted_.push_back(std::move(msg));
    }

    const relais_plugin_info *info_;
    Config config_;
    std::string instance_id_, data_dir_, key_scratch_;
    relais_host_api api_{};
    void *instance_ = nullptr;
    bool started_ = false;
    mutable std::mutex mutex_;
    std::vector<Message> emitted_;
    std::vector<size_t> emit_batch_sizes_;
    std::vector<std::pair<int32_t, std::string>> logs_;
    std::map<std::string, double> metrics_;
    std::map<std::string, std::string> kv_;
    std::map<uint64_t, Timer> timers_;
    uint64_t next_timer_ = 0;
    int emit_result_ = RELAIS_OK;
    bool hold_answers_ = false;
    std::vector<HeldAnswer> held_answers_;
};

} // namespace relais::testing
