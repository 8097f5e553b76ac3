#include "plugins/process_plugin.hpp"

#include "plugins/instance.hpp"
#include "plugins/loader.hpp"

#include <relais/message.hpp>
#include <relais/message_json.hpp>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace fs = std::filesystem;
namespace json = boost::json;

namespace relais {

// ---------------------------------------------------------------------------------------------------------------
// LineChannel

LineChannel::~LineChannel() {
    if (!owns_) return;
    ::close(read_fd_);
    if (write_fd_ != read_fd_) ::close(write_fd_);
}

bool LineChannel::send(const json::object &o) {
    std::string line = json::serialize(o);
    line += '\n';
    std::lock_guard lock(write_mutex_);
    size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::send(write_fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = ::write(write_fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

std::optional<json::object> LineChannel::receive(std::string *bad) {
    for (;;) {
        size_t nl = buffer_.find('\n');
        while (nl == std::string::npos) {
            char chunk[65536];
            ssize_t n = ::read(read_fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<size_t>(n));
            nl = buffer_.find('\n');
        }
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.empty() || line == "\r") continue;
        // A program that writes Latin-1 still gets its messages through: the host repairs what it takes in
        // (U+FFFD) as it does for library plugins, instead of dropping the whole line.
        static const json::parse_options lenient = [] {
            json::parse_options o;
            o.allow_invalid_utf8 = true;
            return o;
        }();
        boost::system::error_code ec;
        json::value v = json::parse(line, ec, {}, lenient);
        if (!ec && v.is_object()) return std::move(v.as_object());
        if (bad) *bad = line.substr(0, 200);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Config as JSON

namespace {

json::value config_walk(relais_host *h, const relais_host_api *api, const std::string &path, int32_t type) {
    relais_str s{};
    int rc = api->config_get(h, path.c_str(), &s);
    if (rc == RELAIS_OK) {
        std::string text = to_string(s);
        try {
            if (type == RELAIS_CONFIG_INT) return json::value(std::stoll(text));
            if (type == RELAIS_CONFIG_DOUBLE) return json::value(std::stod(text));
        } catch (const std::exception &) {
        }
        if (type == RELAIS_CONFIG_BOOL) {
            if (text == "true" || text == "yes" || text == "on") return json::value(true);
            if (text == "false" || text == "no" || text == "off") return json::value(false);
        }
        return json::value(text);
    }
    size_t n = api->config_size(h, path.c_str());
    if (n == 0) return json::value(nullptr);
    relais_str key{};
    if (api->config_key(h, path.c_str(), 0, &key) == RELAIS_OK) {
        json::object map;
        for (size_t i = 0; i < n; ++i)
            if (api->config_key(h, path.c_str(), i, &key) == RELAIS_OK) {
                std::string k = to_string(key);
                json::value v = config_walk(h, api, path + "." + k, RELAIS_CONFIG_STRING);
                if (!v.is_null()) map[k] = std::move(v);
            }
        return map;
    }
    json::array list;
    for (size_t i = 0; i < n; ++i) list.push_back(config_walk(h, api, path + "." + std::to_string(i), RELAIS_CONFIG_STRING));
    return list;
}

} // namespace

json::object config_as_json(relais_host *h, const relais_host_api *api, const std::vector<const relais_config_key *> &keys) {
    json::object out;
    for (const relais_config_key *k : keys) {
        if (!k->name) continue;
        json::value v = config_walk(h, api, k->name, k->type);
        if (!v.is_null()) out[k->name] = std::move(v);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The proxy: one child process per instance

namespace {

std::string str_field(const json::object &o, const char *key) {
    auto *v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t int_field(const json::object &o, const char *key, int64_t fallback = 0) {
    auto *v = o.if_contains(key);
    if (!v) return fallback;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
    if (v->is_double()) return static_cast<int64_t>(v->as_double());
    return fallback;
}

using Clock = std::chrono::steady_clock;

class ProcessProxy {
public:
    ProcessProxy(std::shared_ptr<const ProcessSpec> spec, relais_host *h, const relais_host_api *api,
                 std::vector<const relais_config_key *> keys)
        : spec_(std::move(spec)), host_(h), api_(api), keys_(std::move(keys)) {}
    ~ProcessProxy() { stop(); }

    bool start(std::string &error) {
        instance_ = to_string(api_->instance_id(host_));
        config_ = config_as_json(host_, api_, keys_);
        if (!launch(error)) {
            kill_child();
            return false;
        }
        stopping_ = false;
        supervisor_ = std::thread([this] { supervise(); });
        if (!answerer_.joinable()) {
            answering_ = true;
            answerer_ = std::thread([this] { answer_emits(); });
        }
        return true;
    }

    void deliver(const relais_message *m, const relais_delivery *d, relais_deliver_result *r) {
        std::lock_guard serial(deliver_mutex_);
        json::object req;
        req["op"] = "deliver";
        req["message"] = message_to_json_value(from_c(*m));
        json::object del;
        del["channel"] = to_view(d->channel);
        del["rendered"] = to_view(d->rendered);
        del["delivery_key"] = to_view(d->delivery_key);
        del["attempt"] = d->attempt;
        del["reply_to"] = to_view(d->reply_to);
        req["delivery"] = std::move(del);
        std::string error;
        auto reply = call(std::move(req), 30'000, error);
        if (!reply) {
            // The child died, is restarting or hung: the host keeps the message and tries again.
            error_ = "plugin process " + spec_->name + ": " + error;
            r->status = RELAIS_RETRY;
            r->retry_after_ms = 200;
            r->error = to_c(error_);
            return;
        }
        std::string status = str_field(*reply, "status");
        native_id_ = str_field(*reply, "native_id");
        error_ = str_field(*reply, "error");
        if (status == "ok") {
            r->status = RELAIS_DELIVERED;
            r->native_id = to_c(native_id_);
        } else if (status == "retry") {
            r->status = RELAIS_RETRY;
            r->retry_after_ms = static_cast<uint32_t>(std::max<int64_t>(0, int_field(*reply, "retry_after_ms")));
        } else if (status == "failed") {
            r->status = RELAIS_FAILED;
        } else {
            r->status = RELAIS_FAILED;
            error_ = "the plugin process answered an unknown status '" + status + "' (use ok, retry or failed)";
        }
        r->error = to_c(error_);
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_all();
        if (supervisor_.joinable()) supervisor_.join();
        if (alive()) {
            std::string error;
            json::object req;
            req["op"] = "stop";
            call(std::move(req), 5'000, error);
        }
        if (fd_ >= 0) ::shutdown(fd_, SHUT_WR); // end of input: the child exits
        wait_child(3'000);
        kill_child();
        {
            std::lock_guard lock(mutex_);
            answering_ = false;
        }
        answers_wake_.notify_all();
        if (answerer_.joinable()) answerer_.join();
    }

private:
    bool alive() {
        std::lock_guard lock(mutex_);
        return alive_;
    }

    // Starts the child and runs create and start. On failure the child is killed.
    bool launch(std::string &error) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            error = std::string("cannot create a socket pair: ") + std::strerror(errno);
            return false;
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 0);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        std::vector<char *> argv;
        for (const auto &a : spec_->argv) argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        std::vector<std::string> env_store;
        for (char **e = environ; *e; ++e) env_store.emplace_back(*e);
        env_store.push_back("RELAIS_INSTANCE=" + instance_);
        env_store.push_back("RELAIS_DATA_DIR=" + to_string(api_->data_dir(host_)));
        std::vector<char *> envp;
        for (auto &e : env_store) envp.push_back(e.data());
        envp.push_back(nullptr);
        // The child starts with default signal handling and no blocked signals, in a process group of its own
        // (a Ctrl-C at the terminal reaches the host, which then stops the child in order).
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
        pid_t pid = -1;
        int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            error = "cannot run " + spec_->argv[0] + ": " + std::strerror(rc);
            return false;
        }
        {
            std::lock_guard lock(mutex_);
            pid_ = pid;
            fd_ = fds[0];
            alive_ = true;
            ++generation_;
            started_at_ = Clock::now();
        }
        {
            std::lock_guard lock(mutex_);
            channel_ = std::make_shared<LineChannel>(fds[0], fds[0], true);
        }
        reader_ = std::thread([this, channel = channel_] { read_loop(channel); });

        json::object create;
        create["op"] = "create";
        create["protocol"] = 1;
        create["instance"] = instance_;
        create["data_dir"] = to_string(api_->data_dir(host_));
        create["config"] = config_;
        auto reply = call(std::move(create), 10'000, error);
        if (!reply) return false;
        if (auto *ok = reply->if_contains("ok"); !ok || !ok->is_bool() || !ok->as_bool()) {
            error = str_field(*reply, "error");
            if (error.empty()) error = "the plugin process refused its config without saying why";
            return false;
        }
        json::object start;
        start["op"] = "start";
        reply = call(std::move(start), 10'000, error);
        if (!reply) return false;
        if (auto *ok = reply->if_contains("ok"); !ok || !ok->is_bool() || !ok->as_bool()) {
            error = str_field(*reply, "error");
            if (error.empty()) error = "the plugin process failed to start without saying why";
            return false;
        }
        return true;
    }

    // Sends a request and waits for its reply from the same child. nullopt with `error` when the child dies or
    // does not answer in time (a child that hangs is killed, so the supervisor restarts it).
    std::optional<json::object> call(json::object req, int timeout_ms, std::string &error) {
        uint64_t id, generation;
        std::shared_ptr<LineChannel> channel;
        {
            std::lock_guard lock(mutex_);
            if (!alive_) {
                error = "the process is not running (it is being restarted)";
                return std::nullopt;
            }
            id = next_id_++;
            generation = generation_;
            channel = channel_;
            waiting_.insert({id, std::nullopt});
        }
        req["id"] = id;
        if (!channel->send(req)) {
            std::lock_guard lock(mutex_);
            waiting_.erase(id);
            error = "the process closed its input";
            return std::nullopt;
        }
        std::unique_lock lock(mutex_);
        bool done = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
            return waiting_[id].has_value() || !alive_ || generation_ != generation;
        });
        std::optional<json::object> reply = std::move(waiting_[id]);
        waiting_.erase(id);
        if (reply) return reply;
        if (!done) {
            error = "no answer within " + std::to_string(timeout_ms / 1000) + "s; the process is restarted";
            if (pid_ > 0 && generation_ == generation) ::kill(pid_, SIGKILL);
        } else {
            error = "the process exited before answering";
        }
        return std::nullopt;
    }

    // Emits don't wait for their commit: the next line is read meanwhile, so the emits a process sends without
    // waiting for each answer share commits. Each is answered once stored; at most max_emits_in_flight wait at once
    // (then reading pauses, and the process's writes with it).
    static constexpr size_t max_emits_in_flight = 1024;
    struct PendingEmit {
        ProcessProxy *proxy;
        std::shared_ptr<LineChannel> channel;
        std::optional<json::value> id;
    };

    void emit(const std::shared_ptr<LineChannel> &channel, const Message &m, const json::value *id) {
        {
            std::unique_lock lock(mutex_);
            emits_done_.wait(lock, [&] { return emits_in_flight_ < max_emits_in_flight; });
            ++emits_in_flight_;
        }
        auto *pending = new PendingEmit{this, channel, id ? std::optional<json::value>(*id) : std::nullopt};
        MessageView view(m);
        api_->emit_async(host_, view.get(), [](void *user, int code) {
            // On the outbox's writer thread: it must not wait for the process to read, so the answer is queued.
            std::unique_ptr<PendingEmit> p(static_cast<PendingEmit *>(user));
            ProcessProxy &proxy = *p->proxy;
            std::lock_guard lock(proxy.mutex_);
            if (p->id) proxy.answers_.emplace_back(std::move(p->channel), json::object{{"reply", *p->id}, {"code", code}});
            --proxy.emits_in_flight_;
            proxy.emits_done_.notify_all();
            proxy.answers_wake_.notify_one();
        }, pending);
    }

    // Sends the answers to emits, in the order they were stored, each on the channel its emit came from.
    void answer_emits() {
        std::unique_lock lock(mutex_);
        for (;;) {
            answers_wake_.wait(lock, [&] { return !answers_.empty() || !answering_; });
            if (answers_.empty()) return;
            auto batch = std::move(answers_);
            answers_.clear();
            lock.unlock();
            for (auto &[channel, reply] : batch) channel->send(reply);
            lock.lock();
        }
    }

    // The messages of an emit_batch request, or why they cannot be read (naming the first bad one).
    static std::string read_batch(const json::object &req, std::vector<Message> &out) {
        auto *list = req.if_contains("messages");
        if (!list || !list->is_array()) return "no \"messages\" list";
        for (size_t i = 0; i < list->as_array().size(); ++i) {
            std::string error;
            Message m;
            if (!message_from_json_value(list->as_array()[i], m, error))
                return "messages[" + std::to_string(i) + "]: " + error;
            out.push_back(std::move(m));
        }
        return {};
    }

    void read_loop(const std::shared_ptr<LineChannel> &shared) {
        LineChannel &channel = *shared;
        for (;;) {
            std::string bad;
            auto msg = channel.receive(&bad);
            if (!msg) break;
            if (!bad.empty()) spdlog::warn("[{}] plugin process wrote a line that is not a JSON object: {}", instance_, bad);
            if (auto *reply = msg->if_contains("reply")) {
                uint64_t id = reply->is_uint64() ? reply->as_uint64() : static_cast<uint64_t>(int_field(*msg, "reply"));
                std::lock_guard lock(mutex_);
                auto it = waiting_.find(id);
                if (it != waiting_.end()) it->second = std::move(*msg);
                cv_.notify_all();
                continue;
            }
            handle_request(shared, *msg);
        }
        std::lock_guard lock(mutex_);
        alive_ = false;
        cv_.notify_all();
    }

    // What the child asks of the host: emit, log, metric, kv_get, kv_put, kv_delete.
    void handle_request(const std::shared_ptr<LineChannel> &channel, const json::object &req) {
        std::string op = str_field(req, "op");
        auto *id = req.if_contains("id");
        auto answer = [&](json::object reply) {
            if (!id) return;
            reply["reply"] = *id;
            channel->send(reply);
        };
        if (op == "emit") {
            Message m;
            std::string error;
            auto *mv = req.if_contains("message");
            if (!mv || !message_from_json_value(*mv, m, error)) {
                spdlog::warn("[{}] plugin process emitted a message the host cannot read: {}", instance_,
                             mv ? error : "no \"message\" field");
                return answer({{"code", RELAIS_E_INVALID}});
            }
            emit(channel, m, id);
        } else if (op == "emit_batch") {
            std::vector<Message> messages;
            std::string error = read_batch(req, messages);
            if (!error.empty()) {
                spdlog::warn("[{}] plugin process emitted a batch the host cannot read: {}", instance_, error);
                return answer({{"code", RELAIS_E_INVALID}, {"error", error}});
            }
            std::deque<MessageView> views; // a view points into itself: never moved
            std::vector<const relais_message *> pointers;
            for (const Message &m : messages) pointers.push_back(views.emplace_back(m).get());
            answer({{"code", api_->emit_batch(host_, pointers.data(), pointers.size())}});
        } else if (op == "log") {
            std::string level = str_field(req, "level"), text = str_field(req, "text");
            int32_t l = level == "debug" ? RELAIS_LOG_DEBUG
                        : level == "warn" ? RELAIS_LOG_WARN
                        : level == "error" ? RELAIS_LOG_ERROR
                                           : RELAIS_LOG_INFO;
            api_->log(host_, l, to_c(text));
        } else if (op == "metric") {
            std::string name = str_field(req, "name");
            double value = 1;
            if (auto *v = req.if_contains("value"); v && v->is_number()) value = v->to_number<double>();
            if (str_field(req, "kind") == "gauge") api_->gauge_set(host_, name.c_str(), value);
            else api_->counter_add(host_, name.c_str(), value);
        } else if (op == "kv_get") {
            std::string key = str_field(req, "key");
            std::string value;
            int code = api_->kv_get(host_, to_c(key), [](void *u, relais_str v) { *static_cast<std::string *>(u) = to_string(v); }, &value);
            json::object reply{{"code", code}};
            if (code == RELAIS_OK) reply["value"] = value;
            answer(std::move(reply));
        } else if (op == "kv_put") {
            std::string key = str_field(req, "key"), value = str_field(req, "value");
            answer({{"code", api_->kv_put(host_, to_c(key), to_c(value))}});
        } else if (op == "kv_delete") {
            std::string key = str_field(req, "key");
            answer({{"code", api_->kv_delete(host_, to_c(key))}});
        } else {
            spdlog::warn("[{}] plugin process asked for an unknown operation '{}' (see docs/protocol.md)", instance_, op);
            answer({{"code", RELAIS_E_INVALID}, {"error", "unknown op"}});
        }
    }

    // Waits for the child to die, then restarts it with a doubling backoff (reset after a minute of good health).
    void supervise() {
        uint64_t backoff_ms = 100;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return stopping_ || !alive_; });
                if (stopping_) return;
            }
            int status = wait_child(5'000);
            if (Clock::now() - started_at_ > std::chrono::minutes(1)) backoff_ms = 100;
            std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                                  : "exited with status " + std::to_string(WEXITSTATUS(status));
            spdlog::warn("[{}] plugin process {} {}; restarting it in {} ms", instance_, spec_->name, how, backoff_ms);
            for (;;) {
                {
                    std::unique_lock lock(mutex_);
                    if (cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stopping_; })) return;
                }
                backoff_ms = std::min<uint64_t>(backoff_ms * 2, 30'000);
                std::string error;
                if (launch(error)) {
                    spdlog::info("[{}] plugin process {} restarted", instance_, spec_->name);
                    api_->counter_add(host_, "process_restarts", 1);
                    break;
                }
                spdlog::error("[{}] plugin process {} could not be restarted: {}; next try in {} ms", instance_,
                              spec_->name, error, backoff_ms);
                kill_child();
            }
        }
    }

    // Reaps the child (waiting up to timeout_ms) and the reader thread. Returns the wait status.
    int wait_child(int timeout_ms) {
        int status = 0;
        pid_t pid;
        {
            std::lock_guard lock(mutex_);
            pid = pid_;
        }
        if (pid > 0) {
            auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
            for (;;) {
                pid_t r = ::waitpid(pid, &status, WNOHANG);
                if (r == pid || (r < 0 && errno != EINTR)) break;
                if (Clock::now() > deadline) {
                    ::kill(pid, SIGKILL);
                    ::waitpid(pid, &status, 0);
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            std::lock_guard lock(mutex_);
            pid_ = -1;
        }
        close_channel();
        return status;
    }

    void kill_child() {
        pid_t pid;
        {
            std::lock_guard lock(mutex_);
            pid = pid_;
            pid_ = -1;
        }
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status;
            ::waitpid(pid, &status, 0);
        }
        close_channel();
    }

    void close_channel() {
        int fd;
        {
            std::lock_guard lock(mutex_);
            fd = fd_;
            fd_ = -1;
        }
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR); // wakes the reader; the descriptor closes with its last user
        if (reader_.joinable()) reader_.join();
        std::lock_guard lock(mutex_);
        channel_.reset();
        alive_ = false;
    }

    std::shared_ptr<const ProcessSpec> spec_;
    relais_host *host_;
    const relais_host_api *api_;
    std::vector<const relais_config_key *> keys_;
    std::string instance_;
    json::object config_;

    std::mutex mutex_;
    std::condition_variable cv_;
    pid_t pid_ = -1;
    int fd_ = -1;
    bool alive_ = false, stopping_ = true;
    uint64_t generation_ = 0, next_id_ = 1;
    Clock::time_point started_at_;
    std::map<uint64_t, std::optional<json::object>> waiting_;
    size_t emits_in_flight_ = 0;
    std::condition_variable emits_done_;
    std::deque<std::pair<std::shared_ptr<LineChannel>, json::object>> answers_;
    std::condition_variable answers_wake_;
    bool answering_ = true;
    std::thread answerer_;
    std::shared_ptr<LineChannel> channel_;
    std::thread reader_, supervisor_;

    std::mutex deliver_mutex_;
    std::string native_id_, error_;
};

void write_err(char *err, size_t len, const std::string &what) {
    if (err && len) std::snprintf(err, len, "%s", what.c_str());
}

// The callbacks of every ProcessSpec's relais_plugin_info.
void *proxy_create(relais_host *h, const relais_host_api *api, char *err, size_t err_len) {
    const LoadedPlugin &plugin = PluginInstance::plugin_of(h);
    if (!plugin.process) {
        write_err(err, err_len, "internal error: not a process plugin");
        return nullptr;
    }
    return new ProcessProxy(plugin.process, h, api, plugin.config_keys());
}
int proxy_start(void *self, char *err, size_t err_len) {
    std::string error;
    if (static_cast<ProcessProxy *>(self)->start(error)) return 0;
    write_err(err, err_len, error);
    return -1;
}
void proxy_deliver(void *self, const relais_message *m, const relais_delivery *d, relais_deliver_result *r) {
    static_cast<ProcessProxy *>(self)->deliver(m, d, r);
}
int proxy_search(void *, const relais_search *, relais_search_hit_fn, void *, char *err, size_t err_len) {
    write_err(err, err_len, "search is not available for a plugin run as a separate process");
    return -1;
}
void proxy_stop(void *self) { static_cast<ProcessProxy *>(self)->stop(); }
void proxy_destroy(void *self) { delete static_cast<ProcessProxy *>(self); }

void finish_info(ProcessSpec &spec) {
    relais_plugin_info &i = spec.info;
    i.struct_size = sizeof(relais_plugin_info);
    i.abi_major = RELAIS_ABI_MAJOR;
    i.abi_minor = RELAIS_ABI_MINOR;
    i.name = spec.name.c_str();
    i.version = spec.version.c_str();
    i.description = spec.description.c_str();
    i.capabilities = spec.capabilities;
    i.default_level = spec.default_level;
    i.config_keys = spec.keys.empty() ? nullptr : spec.keys.data();
    i.config_keys_len = spec.keys.size();
    i.config_key_size = sizeof(relais_config_key);
    i.create = &proxy_create;
    i.start = &proxy_start;
    i.deliver = &proxy_deliver;
    i.search = &proxy_search;
    i.stop = &proxy_stop;
    i.destroy = &proxy_destroy;
}

const char *keep(ProcessSpec &spec, std::string s) { return spec.strings.emplace_back(std::move(s)).c_str(); }

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// Manifests

std::shared_ptr<ProcessSpec> load_process_manifest(const std::string &path, std::string &error) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
        error = "cannot be read";
        return nullptr;
    }
    boost::system::error_code ec;
    json::value v = json::parse(text.str(), ec);
    if (ec || !v.is_object()) {
        error = "is not a JSON object" + (ec ? ": " + ec.message() : std::string());
        return nullptr;
    }
    const json::object &m = v.as_object();
    static const std::vector<std::string> known = {"name", "version", "description", "command", "capabilities",
                                                   "default_level", "config"};
    for (const auto &kv : m)
        if (std::find(known.begin(), known.end(), std::string(kv.key())) == known.end()) {
            error = "unknown key '" + std::string(kv.key()) + "' (known: name, version, description, command, "
                    "capabilities, default_level, config)";
            return nullptr;
        }
    auto spec = std::make_shared<ProcessSpec>();
    spec->origin = path;
    spec->name = str_field(m, "name");
    spec->version = str_field(m, "version");
    spec->description = str_field(m, "description");
    std::string file = fs::path(path).filename().string();
    if (file != "relais-" + spec->name + ".plugin.json") {
        error = "its name '" + spec->name + "' does not match the file name (relais-NAME.plugin.json)";
        return nullptr;
    }
    // command: "prog" or ["prog", "arg", ...]; an item naming a file beside the manifest is made absolute.
    fs::path dir = fs::absolute(path).parent_path();
    std::vector<std::string> argv;
    if (auto *c = m.if_contains("command"); c && c->is_string()) argv.emplace_back(c->as_string());
    else if (c && c->is_array())
        for (const auto &a : c->as_array())
            if (a.is_string()) argv.emplace_back(a.as_string());
    if (argv.empty() || argv[0].empty()) {
        error = "needs \"command\": the program to run, relative to the manifest (or a list: program, arguments)";
        return nullptr;
    }
    for (auto &a : argv) {
        std::error_code fec;
        if (!a.empty() && a[0] != '/' && fs::exists(dir / a, fec)) a = (dir / a).lexically_normal().string();
    }
    spec->argv = argv;
    if (auto *caps = m.if_contains("capabilities"); caps && caps->is_array()) {
        for (const auto &c : caps->as_array()) {
            std::string cap = c.is_string() ? std::string(c.as_string()) : "";
            if (cap == "source") spec->capabilities |= RELAIS_CAP_SOURCE;
            else if (cap == "sink") spec->capabilities |= RELAIS_CAP_SINK;
            else {
                error = "capability '" + cap + "' is not one of source, sink (an archive cannot run as a process)";
                return nullptr;
            }
        }
    }
    if (spec->capabilities == 0) {
        error = "needs \"capabilities\": [\"source\"], [\"sink\"] or both";
        return nullptr;
    }
    std::string level = str_field(m, "default_level");
    if (level.empty() || level == "internal") spec->default_level = RELAIS_LEVEL_INTERNAL;
    else if (level == "public") spec->default_level = RELAIS_LEVEL_PUBLIC;
    else if (level == "confidential") spec->default_level = RELAIS_LEVEL_CONFIDENTIAL;
    else if (level == "secret") spec->default_level = RELAIS_LEVEL_SECRET;
    else {
        error = "default_level '" + level + "' is not one of public, internal, confidential, secret";
        return nullptr;
    }
    static const std::map<std::string, int32_t> types = {
        {"string", RELAIS_CONFIG_STRING}, {"int", RELAIS_CONFIG_INT},         {"bool", RELAIS_CONFIG_BOOL},
        {"double", RELAIS_CONFIG_DOUBLE}, {"duration", RELAIS_CONFIG_DURATION}, {"list", RELAIS_CONFIG_LIST},
        {"map", RELAIS_CONFIG_MAP},       {"string_list", RELAIS_CONFIG_STRING_LIST}};
    if (auto *keys = m.if_contains("config"); keys && keys->is_array()) {
        for (const auto &kv : keys->as_array()) {
            if (!kv.is_object()) {
                error = "every item of \"config\" is an object {name, type, default, required, description}";
                return nullptr;
            }
            const json::object &k = kv.as_object();
            relais_config_key key{};
            key.name = keep(*spec, str_field(k, "name"));
            std::string type = str_field(k, "type");
            auto t = types.find(type.empty() ? "string" : type);
            if (t == types.end()) {
                error = "config key '" + std::string(key.name) + "': type '" + type +
                        "' is not one of string, int, bool, double, duration, list, map, string_list";
                return nullptr;
            }
            key.type = t->second;
            if (auto *d = k.if_contains("default"); d && !d->is_null()) {
                std::string text = d->is_string() ? std::string(d->as_string()) : json::serialize(*d);
                key.default_value = keep(*spec, text);
            }
            auto *req = k.if_contains("required");
            key.required = req && req->is_bool() && req->as_bool();
            key.description = keep(*spec, str_field(k, "description"));
            spec->keys.push_back(key);
        }
    }
    finish_info(*spec);
    return spec;
}

std::shared_ptr<ProcessSpec> isolated_spec(const LoadedPlugin &plugin) {
    auto spec = std::make_shared<ProcessSpec>();
    spec->origin = plugin.path;
    spec->name = plugin.name;
    spec->version = plugin.version;
    spec->description = plugin.description;
    boost::system::error_code ec;
    auto exe = boost::dll::program_location(ec);
    spec->argv = {ec ? std::string("relais") : exe.string(), "plugin-runner", "--library", plugin.path};
    spec->capabilities = plugin.info->capabilities & (RELAIS_CAP_SOURCE | RELAIS_CAP_SINK);
    spec->default_level = plugin.info->default_level;
    for (const relais_config_key *k : plugin.config_keys()) {
        relais_config_key key{};
        key.name = keep(*spec, k->name ? k->name : "");
        key.type = k->type;
        key.default_value = k->default_value ? keep(*spec, k->default_value) : nullptr;
        key.required = k->required;
        key.description = keep(*spec, k->description ? k->description : "");
        spec->keys.push_back(key);
    }
    finish_info(*spec);
    return spec;
}

} // namespace relais
