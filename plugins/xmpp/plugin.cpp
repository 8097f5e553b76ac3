// plugin.cpp — the xmpp connector: relays what is said in XMPP rooms and direct chats, and says in them what it
// is given.
#include "client.hpp"
#include "config.hpp"
#include "text.hpp"

#include <relais/plugin.hpp>

#include <deque>
#include <memory>
#include <mutex>

namespace relais::xmpp {

class XmppPlugin : public Plugin {
public:
    explicit XmppPlugin(Host &h) : Plugin(h), config_(read_config(host())) {}

    void start() override {
        client_ = std::make_unique<Client>(
            config_, [this](relais_log_level level, const std::string &text) { host().log(level, text); },
            [this](const Incoming &in) { on_message(in); },
            [this](const char *name) { host().counter_add(name); });
        client_->start();
        // Messages the host could not take yet are offered again every second, in order.
        host().timer_start(1000, 1000, [this] { flush(); });
    }

    void stop() override {
        {
            std::lock_guard lock(mutex_);
            stopped_ = true;
        }
        { std::lock_guard wait_for_flush(flush_mutex_); } // an emit in progress on a timer thread ends first
        if (client_) client_->stop();
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        if (!client_) return DeliverResult::retry("the xmpp connector is not started", 1000);
        SendRequest request;
        request.to = d.channel.empty() ? config_.default_to : d.channel;
        if (request.to.empty())
            return DeliverResult::failed("no room or person to send to: route to this instance as "
                                         "instance/room@conference.example.org or set `to` in its config");
        if (!looks_like_bare_jid(request.to))
            return DeliverResult::failed("\"" + request.to + "\" is not a bare JID (room@conference.example.org "
                                         "or person@example.org)");
        const std::string &text = d.rendered.empty() ? m.text : d.rendered;
        if (text.empty()) return DeliverResult::ok(); // XMPP has no empty message to show
        request.pieces = split_text(text, config_.max_length);
        if (request.pieces.size() > 1)
            host().log_info("xmpp: a text of " + std::to_string(text.size()) + " bytes is over max_length " +
                            std::to_string(config_.max_length) + ": sent as " + std::to_string(request.pieces.size()) +
                            " messages to " + request.to);
        if (!d.reply_to.empty()) {
            if (m.kind == Kind::edit) {
                // XEP-0308 names the corrected message by the id it was sent with, which the room's stanza-id
                // (our native id) is not: the id sent is kept in the kv store when they differ.
                request.replace_id = host().kv_get("sent:" + d.reply_to).value_or(d.reply_to);
            } else if (m.kind == Kind::reply || m.kind == Kind::post) {
                request.reply_id = d.reply_to;
            }
        }
        SendOutcome out = client_->send(request, std::chrono::milliseconds(config_.send_timeout_ms));
        switch (out.status) {
        case SendStatus::sent:
            host().counter_add("messages_sent");
            if (!out.native_id.empty() && !out.sent_id.empty() && out.native_id != out.sent_id)
                host().kv_put("sent:" + out.native_id, out.sent_id);
            return DeliverResult::ok(out.native_id);
        case SendStatus::refused: return DeliverResult::retry(out.detail, 60'000);
        case SendStatus::rejected: return DeliverResult::retry(out.detail, 10'000);
        default: return DeliverResult::retry(out.detail, 1000);
        }
    }

private:
    void on_message(const Incoming &in) {
        Message m;
        m.channel = in.channel;
        m.author = in.author;
        m.author_id = in.author_id;
        m.text = in.text;
        m.native_id = in.native_id;
        m.tags = hashtags(in.text);
        if (in.edit) m.kind = Kind::edit;
        else if (in.reply) m.kind = Kind::reply;
        m.reply_to = in.reply_to;
        if (in.direct) m.metadata.emplace_back("xmpp.direct", "true");
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            pending_.push_back(std::move(m));
        }
        host().counter_add("messages_received");
        flush();
    }

    // Hands the waiting messages to the host, oldest first; stops at the first one it does not accept.
    void flush() {
        std::lock_guard lock(flush_mutex_);
        for (;;) {
            Message m;
            {
                std::lock_guard lock2(mutex_);
                if (stopped_ || pending_.empty()) return;
                m = pending_.front();
            }
            int rc = host().emit(m);
            if (rc != RELAIS_OK) {
                if (!warned_) host().log_warn("xmpp: the host did not accept a message from " + m.channel +
                                              " (code " + std::to_string(rc) + "); keeping it and trying again");
                warned_ = true;
                return;
            }
            warned_ = false;
            std::lock_guard lock2(mutex_);
            if (!pending_.empty()) pending_.pop_front();
        }
    }

    XmppConfig config_;
    std::unique_ptr<Client> client_;
    std::mutex mutex_, flush_mutex_;
    std::deque<Message> pending_; // seen on XMPP, not yet accepted by the host
    bool stopped_ = false, warned_ = false;
};

} // namespace relais::xmpp

static const relais_config_key xmpp_keys[] = {
    {"jid", RELAIS_CONFIG_STRING, nullptr, 1, "the bot's account, user@domain (a /resource is optional)"},
    {"password", RELAIS_CONFIG_STRING, nullptr, 1, "its password (use ${env:…} or ${file:…})"},
    {"server", RELAIS_CONFIG_STRING, nullptr, 0,
     "the server's host name or address (default: the JID's domain, looked up by SRV)"},
    {"port", RELAIS_CONFIG_INT, nullptr, 0, "the server's port (default 5222, or 5223 with tls: direct)"},
    {"tls", RELAIS_CONFIG_STRING, "starttls", 0,
     "starttls (required), direct (TLS from the first byte) or plaintext (no TLS: loopback or tests only)"},
    {"tls_verify", RELAIS_CONFIG_BOOL, "true", 0, "check the server's certificate and name"},
    {"tls_ca", RELAIS_CONFIG_STRING, nullptr, 0,
     "a CA file (PEM) to check the server's certificate against; default: the system's CAs"},
    {"nick", RELAIS_CONFIG_STRING, nullptr, 0, "the bot's nick in rooms (default: the JID's user part)"},
    {"rooms", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "group-chat rooms (XEP-0045) to join and relay from"},
    {"direct", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "people (bare JIDs) whose direct messages are relayed"},
    {"direct_from_anyone", RELAIS_CONFIG_BOOL, "false", 0, "relay direct messages from anyone"},
    {"to", RELAIS_CONFIG_STRING, nullptr, 0, "where deliveries without a channel go (default: the first room)"},
    {"max_length", RELAIS_CONFIG_INT, "10000", 0,
     "bytes of text per message: longer deliveries are split, longer incoming messages cut"},
    {"reconnect_min", RELAIS_CONFIG_DURATION, "1s", 0, "first wait before reconnecting, doubled each failure"},
    {"reconnect_max", RELAIS_CONFIG_DURATION, "5m", 0, "the longest wait between reconnection attempts"},
    {"send_timeout", RELAIS_CONFIG_DURATION, "30s", 0,
     "how long one delivery may wait for the connection, the room and the server's confirmation"},
    {"ping_interval", RELAIS_CONFIG_DURATION, "60s", 0,
     "how often to ping the server; no answer within as long again: reconnect"},
};

RELAIS_PLUGIN(relais::xmpp::XmppPlugin, "xmpp", "0.1.0", "Relays XMPP rooms and direct chats: joins, reads and posts",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, xmpp_keys)
