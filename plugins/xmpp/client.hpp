// client.hpp — one XMPP client session over libstrophe: login, rooms joined and rejoined, direct chats, incoming
// messages, and outgoing messages confirmed by the server. libstrophe is not thread-safe, so its event loop
// (xmpp_run_once) and every call into it run on one thread of the client's own; send() hands a job to that thread
// and waits for its outcome. It reconnects by itself with exponential backoff and rejoins the rooms.
#pragma once

#include "config.hpp"
#include "stanza.hpp"

#include <relais/plugin.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace relais::xmpp {

// A message seen in a room or a direct chat.
struct Incoming {
    std::string channel;   // the room's bare JID, or the peer's
    std::string author;    // the occupant's nick, or the peer's bare JID
    std::string author_id; // the real JID when known, else room/nick
    std::string text;
    std::string native_id; // the XEP-0359 stanza-id, else the message id
    std::string reply_to;  // the message answered (XEP-0461) or corrected (XEP-0308)
    bool edit = false, reply = false, direct = false;
};

enum class SendStatus { sent, not_ready, refused, rejected, lost, timed_out, stopped };

struct SendOutcome {
    SendStatus status;
    std::string detail;
    std::string native_id; // the room's stanza-id of the first piece, or its message id
    std::string sent_id;   // the id attribute of the first piece as sent
};

struct SendRequest {
    std::string to;         // a room or a person (bare JID)
    std::vector<std::string> pieces;
    std::string reply_id;   // XEP-0461 id of the message answered
    std::string replace_id; // XEP-0308 id of the message corrected
};

class Client {
public:
    using LogFn = std::function<void(relais_log_level, const std::string &)>;
    using MessageFn = std::function<void(const Incoming &)>;
    using CountFn = std::function<void(const char *)>;

    Client(XmppConfig config, LogFn log, MessageFn on_message, CountFn count);
    ~Client();
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    void start();
    void stop();

    // Sends the pieces to a room (joined on demand) or a person, in order. Returns once the server confirmed them
    // (the room reflected each piece back, or an IQ ping after a direct message came back), or why not. Waits at
    // most `wait` for the connection, the room and the confirmation.
    SendOutcome send(const SendRequest &request, std::chrono::milliseconds wait);

    bool is_room(const std::string &bare) const;

private:
    struct Job {
        SendRequest request;
        bool groupchat = false;
        std::vector<std::string> ids;    // one per piece
        size_t confirmed = 0;
        std::string ping_id;             // direct chats: the IQ ping that confirms them
        std::string native_id;
        bool finished = false;
        SendStatus status = SendStatus::sent;
        std::string detail;
        bool cancelled = false;          // the caller gave up waiting
    };
    struct Room {
        std::string jid;
        std::string nick;                // the nick in use (or being tried)
        unsigned nick_tries = 0;
        bool joined = false, history_done = false;
        std::string refused;             // why the room refused the bot, or empty
        std::chrono::steady_clock::time_point refused_at{}, joining_since{};
    };

    Room make_room(const std::string &jid) const {
        Room r;
        r.jid = jid;
        r.nick = config_.nick;
        return r;
    }

    // Loop thread only.
    void run();
    void connect_now();
    void on_connection(xmpp_conn_t *conn, xmpp_conn_event_t event, int error, xmpp_stream_error_t *stream_error);
    int on_message_stanza(xmpp_stanza_t *stanza);
    int on_presence(xmpp_stanza_t *stanza);
    int on_iq(xmpp_stanza_t *stanza);
    void on_group_message(const MessageFields &f);
    void on_direct_message(const MessageFields &f);
    void on_message_error(const MessageFields &f);
    void join(Room &room);
    void start_jobs();
    void start_job(const std::shared_ptr<Job> &job);
    void finish(const std::shared_ptr<Job> &job, SendStatus status, const std::string &detail);
    void fail_in_flight(const std::string &why);
    void keepalive();
    void ping(const std::string &id);
    void disconnected(const std::string &why);
    std::string next_id();
    std::string remember_id(const std::string &room, const std::string &id, const std::string &native);

    static void connection_trampoline(xmpp_conn_t *, xmpp_conn_event_t, int, xmpp_stream_error_t *, void *);
    static int message_trampoline(xmpp_conn_t *, xmpp_stanza_t *, void *);
    static int presence_trampoline(xmpp_conn_t *, xmpp_stanza_t *, void *);
    static int iq_trampoline(xmpp_conn_t *, xmpp_stanza_t *, void *);
    static void log_trampoline(void *, xmpp_log_level_t, const char *, const char *);

    XmppConfig config_;
    LogFn log_;
    MessageFn on_message_;
    CountFn count_;
    std::string own_bare_;

    xmpp_log_t strophe_log_{};
    xmpp_ctx_t *ctx_ = nullptr;
    xmpp_conn_t *conn_ = nullptr;
    std::vector<xmpp_conn_t *> dead_conns_;
    std::thread thread_;

    // Loop thread only.
    bool online_ = false, connecting_ = false, leaving_ = false;
    unsigned attempts_ = 0;
    std::chrono::steady_clock::time_point next_connect_{}, last_ping_{}, ping_sent_{}, connect_started_{};
    std::string keepalive_id_;
    uint64_t id_seq_ = 0;
    std::string id_prefix_;
    std::map<std::string, std::shared_ptr<Job>> by_piece_id_; // ids sent and not yet confirmed
    std::map<std::string, std::shared_ptr<Job>> by_ping_id_;
    std::set<std::string> sent_recently_;                      // ids of our pieces, for echoes after a timeout
    std::deque<std::string> sent_order_;
    std::unordered_map<std::string, std::string> native_by_id_; // room|message id → stanza-id, for corrections
    std::deque<std::string> native_order_;

    // Shared with the threads that call send(): guarded by mutex_.
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false, ready_ = false;
    std::deque<std::shared_ptr<Job>> queued_;
    std::map<std::string, Room> rooms_; // bare JID → state
    std::chrono::steady_clock::time_point busy_until_{};
};

} // namespace relais::xmpp
