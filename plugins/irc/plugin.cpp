// plugin.cpp — the irc connector: relays what is said in IRC channels, and says in them what it is given.
#include "config.hpp"
#include "connection.hpp"

#include <relais/plugin.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace relais::irc {

class IrcPlugin : public Plugin {
public:
    explicit IrcPlugin(Host &h) : Plugin(h), config_(read_config(host())) {}

    void start() override {
        connection_ = std::make_unique<Connection>(
            config_, [this](relais_log_level level, const std::string &text) { host().log(level, text); },
            [this](const Incoming &in) { on_message(in); },
            [this](const char *name) { host().counter_add(name); });
        // The connection's thread only reads and queues; this one hands the queue to the host. A burst is read as
        // fast as the server sends it, whatever the host's pace: a bot that reads slowly is dropped by the server.
        emitter_ = std::thread([this] { emit_loop(); });
        connection_->start();
    }

    void stop() override {
        {
            std::lock_guard lock(mutex_);
            stopped_ = true;
        }
        wake_.notify_all();
        if (emitter_.joinable()) emitter_.join(); // an emit in progress ends first
        if (connection_) connection_->stop();
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        std::vector<Connection::Outgoing> texts;
        if (auto text = outgoing(m, d)) texts.push_back(std::move(*text));
        return send(texts, 1).front();
    }

    // A backlog goes to the flood-control queue at once and waits for one confirmation from the server, not one a
    // message: the server answers a PING after every line before it.
    std::vector<DeliverResult> deliver_batch(const std::vector<BatchItem> &items) {
        std::vector<Connection::Outgoing> texts;
        texts.reserve(items.size());
        for (const BatchItem &item : items) {
            auto text = outgoing(item.message, item.delivery);
            if (!text) break; // answered by send(), after those before it
            texts.push_back(std::move(*text));
        }
        return send(texts, items.size());
    }

private:
    // Where and what to say for one delivery; nothing when it names no channel and the config has none.
    std::optional<Connection::Outgoing> outgoing(const Message &m, const Delivery &d) const {
        std::string target = d.channel.empty() ? config_.default_channel : d.channel;
        if (target.empty()) return std::nullopt;
        return Connection::Outgoing{std::move(target), d.rendered.empty() ? m.text : d.rendered};
    }

    // Sends `texts`, the first of `deliveries`, in order; the results stop at the first not written. A delivery
    // after the texts had no channel to go to.
    std::vector<DeliverResult> send(const std::vector<Connection::Outgoing> &texts, size_t deliveries) {
        if (!connection_) return {DeliverResult::retry("the irc connector is not started", 1000)};
        std::vector<DeliverResult> results;
        if (!texts.empty()) {
            for (const SendOutcome &out :
                 connection_->send_all(texts, std::chrono::milliseconds(config_.send_timeout_ms))) {
                switch (out.status) {
                case SendStatus::written:
                    host().counter_add("lines_sent", static_cast<double>(out.lines));
                    host().counter_add("messages_sent");
                    results.push_back(DeliverResult::ok());
                    continue;
                case SendStatus::refused: results.push_back(DeliverResult::retry(out.detail, 60'000)); break;
                default: results.push_back(DeliverResult::retry(out.detail, 1000)); break;
                }
                return results; // the first not written: the host offers the rest again
            }
        }
        if (results.size() < deliveries)
            results.push_back(DeliverResult::failed("no channel to send to: route to this instance as "
                                                    "instance/#channel or set `channel` in its config"));
        return results;
    }

    void on_message(const Incoming &in) {
        Message m;
        m.channel = in.channel;
        m.author = in.nick;
        m.author_id = in.mask;
        m.text = in.text;
        m.native_id = in.msgid;
        m.created_at_ms = in.time_ms;
        if (in.action) m.metadata.emplace_back("irc.action", "true");
        if (in.notice) m.metadata.emplace_back("irc.notice", "true");
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            pending_.push_back(std::move(m));
        }
        host().counter_add("messages_received");
        wake_.notify_one();
    }

    // Until stopped: hands what was read to the host; what it could not take yet is offered again a second later.
    void emit_loop() {
        std::unique_lock lock(mutex_);
        while (!stopped_) {
            wake_.wait(lock, [&] { return stopped_ || !pending_.empty(); });
            if (stopped_) return;
            lock.unlock();
            bool all_taken = flush();
            lock.lock();
            if (!all_taken) wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopped_; });
        }
    }

    // Hands the waiting messages to the host, oldest first: all that waited, in one batch (one commit), while the
    // connection reads on. One batch at a time, so a refused batch is offered again before anything read after it.
    bool flush() {
        for (;;) {
            std::vector<Message> batch;
            {
                std::lock_guard lock2(mutex_);
                if (stopped_ || pending_.empty()) return true;
                const size_t n = std::min(pending_.size(), max_emit_batch);
                batch.reserve(n);
                for (size_t i = 0; i < n; ++i) {
                    batch.push_back(std::move(pending_.front()));
                    pending_.pop_front();
                }
            }
            size_t accepted = 0;
            int rc = host().emit_batch(batch, &accepted);
            if (rc == RELAIS_OK) {
                warned_ = false;
                continue;
            }
            {
                std::lock_guard lock2(mutex_); // back in front, in order, what the host did not take
                for (size_t i = batch.size(); i > accepted; --i) pending_.push_front(std::move(batch[i - 1]));
            }
            if (!warned_) host().log_warn("irc: the host did not accept " + std::to_string(batch.size() - accepted) +
                                          " message(s) read on IRC (code " + std::to_string(rc) +
                                          "); keeping them and trying again");
            warned_ = true;
            return false;
        }
    }

    static constexpr size_t max_emit_batch = 256;

    IrcConfig config_;
    std::unique_ptr<Connection> connection_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread emitter_;
    std::deque<Message> pending_; // read on IRC, not yet accepted by the host
    bool stopped_ = false, warned_ = false;
};

} // namespace relais::irc

static const relais_config_key irc_keys[] = {
    {"server", RELAIS_CONFIG_STRING, nullptr, 1, "the IRC server's host name or address"},
    {"port", RELAIS_CONFIG_INT, nullptr, 0, "the server's port (default 6667, or 6697 with tls)"},
    {"tls", RELAIS_CONFIG_BOOL, "false", 0, "connect over TLS"},
    {"tls_verify", RELAIS_CONFIG_BOOL, "true", 0, "check the server's certificate and name (with tls)"},
    {"tls_ca", RELAIS_CONFIG_STRING, nullptr, 0, "a CA file (PEM) to check the server's certificate against; "
                                                 "default: the system's CAs"},
    {"nick", RELAIS_CONFIG_STRING, nullptr, 1, "the bot's nick; if taken, _ then digits are appended"},
    {"username", RELAIS_CONFIG_STRING, "relais", 0, "the user name (ident) sent at registration"},
    {"realname", RELAIS_CONFIG_STRING, "Relais bridge", 0, "the real name sent at registration"},
    {"password", RELAIS_CONFIG_STRING, nullptr, 0, "the server password (PASS), if the server wants one"},
    {"sasl_username", RELAIS_CONFIG_STRING, nullptr, 0, "the account to log in with SASL PLAIN"},
    {"sasl_password", RELAIS_CONFIG_STRING, nullptr, 0, "its password (use ${env:…} or ${file:…})"},
    {"channels", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "channels to join and relay from, e.g. [\"#team\"]"},
    {"channel", RELAIS_CONFIG_STRING, nullptr, 0,
     "where deliveries without a channel go (default: the first of channels)"},
    {"burst", RELAIS_CONFIG_DOUBLE, "5", 0, "flood control: lines sent at once before the rate applies"},
    {"rate", RELAIS_CONFIG_DOUBLE, "2", 0, "flood control: lines per second after the burst; lines wait, never dropped"},
    {"reconnect_min", RELAIS_CONFIG_DURATION, "1s", 0, "first wait before reconnecting, doubled each failure"},
    {"reconnect_max", RELAIS_CONFIG_DURATION, "5m", 0, "the longest wait between reconnection attempts"},
    {"connect_timeout", RELAIS_CONFIG_DURATION, "15s", 0, "the longest connecting and registering may take"},
    {"send_timeout", RELAIS_CONFIG_DURATION, "60s", 0,
     "how long one delivery may wait for the connection and the flood queue before the host retries it"},
    {"notices", RELAIS_CONFIG_BOOL, "true", 0, "relay NOTICEs sent to channels too"},
};

RELAIS_PLUGIN(relais::irc::IrcPlugin, "irc", "0.1.0", "Relays IRC channels: joins them, reads and posts",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, irc_keys)
