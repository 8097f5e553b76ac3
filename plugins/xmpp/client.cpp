// client.cpp — the libstrophe session: everything but send() and stop() runs on the client's own thread.
#include "client.hpp"

#include "text.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace relais::xmpp {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t max_remembered_ids = 20'000;
constexpr unsigned max_nick_tries = 5;
constexpr auto rejoin_after = std::chrono::seconds(60); // a refused room is tried again after this
constexpr auto join_timeout = std::chrono::seconds(15);
constexpr auto login_timeout = std::chrono::seconds(30);

// libstrophe is not thread-safe across contexts during a login: two SCRAM exchanges computed at once on two threads
// were seen to send a wrong proof (the server answers not-authorized). Sessions of one process take turns while
// they log in; once online they run freely.
std::mutex login_turns;

// The reason libstrophe's TLS layer gave for refusing a certificate; set on the loop thread by certfail().
thread_local std::string tls_refusal;

int certfail(const xmpp_tlscert_t *, const char *const errormsg) {
    tls_refusal = errormsg ? errormsg : "the certificate is not trusted";
    return 0; // refuse: tls_verify: false sets XMPP_CONN_FLAG_TRUST_TLS instead
}

std::string domain_of(const std::string &jid) {
    std::string bare = jid.substr(0, jid.find('/'));
    auto at = bare.find('@');
    return at == std::string::npos ? bare : bare.substr(at + 1);
}

const char *stream_error_name(xmpp_error_type_t t) {
    switch (t) {
    case XMPP_SE_CONFLICT: return "conflict (another session logged in with the same resource)";
    case XMPP_SE_NOT_AUTHORIZED: return "not-authorized";
    case XMPP_SE_POLICY_VIOLATION: return "policy-violation";
    case XMPP_SE_SYSTEM_SHUTDOWN: return "system-shutdown";
    case XMPP_SE_XML_NOT_WELL_FORMED: return "xml-not-well-formed";
    case XMPP_SE_CONN_TIMEOUT: return "connection-timeout";
    case XMPP_SE_HOST_UNKNOWN: return "host-unknown";
    case XMPP_SE_RESOURCE_CONSTRAINT: return "resource-constraint";
    default: return "stream error";
    }
}

} // namespace

Client::Client(XmppConfig config, LogFn log, MessageFn on_message, CountFn count)
    : config_(std::move(config)), log_(std::move(log)), on_message_(std::move(on_message)), count_(std::move(count)) {
    own_bare_ = config_.jid.substr(0, config_.jid.find('/'));
    for (const auto &r : config_.rooms) rooms_[r] = make_room(r);
    std::random_device rd;
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < 10; ++i) id_prefix_ += digits[rd() % 36];
}

Client::~Client() { stop(); }

void Client::start() {
    xmpp_initialize();
    strophe_log_.handler = &Client::log_trampoline;
    strophe_log_.userdata = this;
    ctx_ = xmpp_ctx_new(nullptr, &strophe_log_);
    thread_ = std::thread([this] { run(); });
}

void Client::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join(); // the loop leaves the rooms, closes the stream and frees libstrophe
}

bool Client::is_room(const std::string &bare) const {
    std::lock_guard lock(mutex_);
    if (rooms_.count(bare)) return true;
    std::string domain = domain_of(bare);
    for (const auto &r : config_.rooms)
        if (domain_of(r) == domain) return true;
    return false;
}

// --- the loop thread -------------------------------------------------------------------------------------------

void Client::run() {
    auto last_prune = clock::now();
    for (;;) {
        bool stopping, busy;
        {
            std::lock_guard lock(mutex_);
            stopping = stopping_;
            busy = clock::now() < busy_until_;
        }
        if (stopping) break;
        auto now = clock::now();
        if (!conn_ && now >= next_connect_) connect_now();
        // While deliveries are coming, poll often: a job waits for the next turn of the loop.
        if (conn_ && !online_) {
            std::lock_guard turn(login_turns);
            xmpp_run_once(ctx_, 5);
        } else {
            xmpp_run_once(ctx_, busy ? 1 : 20);
        }
        for (xmpp_conn_t *dead : dead_conns_) xmpp_conn_release(dead);
        dead_conns_.clear();
        if (conn_ && !online_ && clock::now() - connect_started_ > login_timeout) {
            log_(RELAIS_LOG_WARN, "xmpp: logging in took over " + std::to_string(login_timeout.count()) +
                                      " s (the server accepts connections but does not answer); trying again");
            connect_started_ = clock::now();
            xmpp_disconnect(conn_);
        }
        start_jobs();
        if (online_) keepalive();
        if (clock::now() - last_prune > std::chrono::seconds(1)) {
            last_prune = clock::now();
            std::lock_guard lock(mutex_);
            for (auto *map : {&by_piece_id_, &by_ping_id_})
                for (auto it = map->begin(); it != map->end();)
                    it = it->second->cancelled ? map->erase(it) : std::next(it);
        }
    }
    // Leave politely, bounded: the server sees the rooms left and the stream closed.
    leaving_ = true;
    if (conn_) {
        if (online_) {
            xmpp_stanza_t *bye = xmpp_presence_new(ctx_);
            xmpp_stanza_set_type(bye, "unavailable");
            xmpp_send(conn_, bye);
            xmpp_stanza_release(bye);
        }
        xmpp_disconnect(conn_);
        auto deadline = clock::now() + std::chrono::seconds(2);
        while (conn_ && clock::now() < deadline) xmpp_run_once(ctx_, 10);
    }
    fail_in_flight("the xmpp connector is stopping");
    {
        std::lock_guard lock(mutex_);
        for (auto &job : queued_) {
            job->finished = true;
            job->status = SendStatus::stopped;
            job->detail = "the xmpp connector is stopping";
        }
        queued_.clear();
    }
    cv_.notify_all();
    if (conn_) dead_conns_.push_back(conn_);
    conn_ = nullptr;
    for (xmpp_conn_t *dead : dead_conns_) xmpp_conn_release(dead);
    dead_conns_.clear();
    xmpp_ctx_free(ctx_);
    ctx_ = nullptr;
}

void Client::connect_now() {
    conn_ = xmpp_conn_new(ctx_);
    long flags = XMPP_CONN_FLAG_DISABLE_SM; // confirmation is done by room reflections and pings, not XEP-0198
    if (config_.tls == TlsMode::starttls) flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
    if (config_.tls == TlsMode::direct) flags |= XMPP_CONN_FLAG_LEGACY_SSL;
    if (config_.tls == TlsMode::plaintext) flags |= XMPP_CONN_FLAG_DISABLE_TLS;
    if (!config_.tls_verify) flags |= XMPP_CONN_FLAG_TRUST_TLS;
    xmpp_conn_set_flags(conn_, flags);
    if (!config_.tls_ca.empty()) xmpp_conn_set_cafile(conn_, config_.tls_ca.c_str());
    xmpp_conn_set_certfail_handler(conn_, &certfail);
    std::string jid = config_.jid.find('/') == std::string::npos ? config_.jid + "/relais" : config_.jid;
    xmpp_conn_set_jid(conn_, jid.c_str());
    xmpp_conn_set_pass(conn_, config_.password.c_str());
    tls_refusal.clear();
    connecting_ = true;
    connect_started_ = clock::now();
    int rc = xmpp_connect_client(conn_, config_.server.empty() ? nullptr : config_.server.c_str(), config_.port,
                                 &Client::connection_trampoline, this);
    if (rc != XMPP_EOK) disconnected("could not start connecting (libstrophe error " + std::to_string(rc) + ")");
}

std::string Client::next_id() { return "relais-" + id_prefix_ + "-" + std::to_string(++id_seq_); }

void Client::on_connection(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                           xmpp_stream_error_t *stream_error) {
    if (conn != conn_) return;
    std::string where = config_.server.empty() ? domain_of(config_.jid)
                                               : config_.server + ":" + std::to_string(config_.port ? config_.port
                                                                                   : config_.tls == TlsMode::direct
                                                                                       ? 5223 : 5222);
    if (event == XMPP_CONN_CONNECT) {
        online_ = true;
        connecting_ = false;
        attempts_ = 0;
        const char *bound = xmpp_conn_get_bound_jid(conn);
        log_(RELAIS_LOG_INFO, "xmpp: connected to " + where + " as " + (bound ? bound : config_.jid) +
                                  (xmpp_conn_is_secured(conn) ? " (TLS)" : " (plaintext)"));
        count_("connects");
        xmpp_handler_add(conn, &Client::message_trampoline, nullptr, "message", nullptr, this);
        xmpp_handler_add(conn, &Client::presence_trampoline, nullptr, "presence", nullptr, this);
        xmpp_handler_add(conn, &Client::iq_trampoline, nullptr, "iq", nullptr, this);
        xmpp_stanza_t *presence = xmpp_presence_new(ctx_);
        xmpp_send(conn, presence);
        xmpp_stanza_release(presence);
        last_ping_ = clock::now();
        keepalive_id_.clear();
        std::lock_guard lock(mutex_);
        ready_ = true;
        for (auto &[jid, room] : rooms_) {
            room.nick = config_.nick;
            room.nick_tries = 0;
            room.refused.clear();
            join(room);
        }
        cv_.notify_all();
        return;
    }
    std::string why;
    if (stream_error) {
        why = std::string("the server closed the stream: ") + stream_error_name(stream_error->type) +
              (stream_error->text ? std::string(" (") + stream_error->text + ")" : "");
    } else if (!tls_refusal.empty()) {
        why = "TLS handshake failed: the server's certificate is not trusted (" + tls_refusal +
              "); set tls_ca to the CA that signed it";
    } else if (error) {
        why = std::strerror(error);
    } else if (!online_) {
        why = "the login failed (wrong jid or password, no common SASL mechanism, or TLS required by one side)";
    } else {
        why = "the connection closed";
    }
    if (leaving_) {
        log_(RELAIS_LOG_INFO, "xmpp: disconnected from " + where + " (stopping)");
        fail_in_flight("the xmpp connector is stopping");
        online_ = false;
        dead_conns_.push_back(conn_);
        conn_ = nullptr;
        return;
    }
    if (online_) log_(RELAIS_LOG_WARN, "xmpp: disconnected from " + where + ": " + why);
    else log_(RELAIS_LOG_ERROR, "xmpp: could not connect to " + where + " as " + config_.jid + ": " + why);
    disconnected(why);
}

void Client::disconnected(const std::string &why) {
    if (online_) count_("disconnects");
    online_ = false;
    connecting_ = false;
    keepalive_id_.clear();
    fail_in_flight("the connection to the server dropped (" + why + ")");
    {
        std::lock_guard lock(mutex_);
        ready_ = false;
        for (auto &[jid, room] : rooms_) room.joined = false;
    }
    if (conn_) dead_conns_.push_back(conn_); // released after xmpp_run_once returns, never inside its callbacks
    conn_ = nullptr;
    // Exponential backoff with ±10 % jitter.
    double delay = double(config_.reconnect_min_ms) * double(1ULL << std::min(attempts_, 20u));
    delay = std::min(delay, double(config_.reconnect_max_ms));
    static thread_local std::mt19937 rng(std::random_device{}());
    delay *= std::uniform_real_distribution<double>(0.9, 1.1)(rng);
    ++attempts_;
    next_connect_ = clock::now() + milliseconds(static_cast<int64_t>(delay));
    log_(RELAIS_LOG_INFO, "xmpp: reconnecting in " + std::to_string(static_cast<int64_t>(delay)) + " ms");
}

void Client::join(Room &room) { // mutex_ held
    room.joined = false;
    room.history_done = false;
    room.joining_since = clock::now();
    xmpp_stanza_t *p = build_join(ctx_, room.jid, room.nick);
    xmpp_send(conn_, p);
    xmpp_stanza_release(p);
}

void Client::keepalive() {
    auto now = clock::now();
    auto interval = milliseconds(config_.ping_interval_ms);
    if (!keepalive_id_.empty()) {
        if (now - ping_sent_ > interval) {
            log_(RELAIS_LOG_WARN, "xmpp: the server did not answer a ping for " +
                                      std::to_string(config_.ping_interval_ms / 1000) + " s; reconnecting");
            keepalive_id_.clear();
            xmpp_disconnect(conn_);
        }
        return;
    }
    if (now - last_ping_ < interval) return;
    last_ping_ = ping_sent_ = now;
    keepalive_id_ = next_id();
    ping(keepalive_id_);
}

void Client::ping(const std::string &id) {
    xmpp_stanza_t *iq = xmpp_iq_new(ctx_, "get", id.c_str());
    std::string to = domain_of(config_.jid);
    xmpp_stanza_set_to(iq, to.c_str());
    xmpp_stanza_t *p = xmpp_stanza_new(ctx_);
    xmpp_stanza_set_name(p, "ping");
    xmpp_stanza_set_ns(p, ns_ping);
    xmpp_stanza_add_child_ex(iq, p, 0);
    xmpp_send(conn_, iq);
    xmpp_stanza_release(iq);
}

// --- sending ---------------------------------------------------------------------------------------------------

SendOutcome Client::send(const SendRequest &request, milliseconds wait) {
    auto job = std::make_shared<Job>();
    job->request = request;
    job->groupchat = is_room(request.to);
    auto deadline = clock::now() + wait;
    std::unique_lock lock(mutex_);
    if (stopping_) return {SendStatus::stopped, "the xmpp connector is stopping", {}, {}};
    busy_until_ = clock::now() + std::chrono::seconds(2);
    queued_.push_back(job);
    cv_.wait_until(lock, deadline, [&] { return job->finished; });
    if (job->finished) return {job->status, job->detail, job->native_id, job->ids.empty() ? "" : job->ids.front()};
    job->cancelled = true;
    auto it = std::find(queued_.begin(), queued_.end(), job);
    if (it != queued_.end()) {
        queued_.erase(it);
        std::string why = !ready_ ? "not connected to the xmpp server"
                                  : "not in the room " + request.to + " yet (joining)";
        return {SendStatus::not_ready, why, {}, {}};
    }
    return {SendStatus::timed_out,
            "the server did not confirm the message within " + std::to_string(wait.count()) + " ms", {}, {}};
}

void Client::start_jobs() {
    std::vector<std::shared_ptr<Job>> ready;
    {
        std::lock_guard lock(mutex_);
        if (!online_) return;
        auto now = clock::now();
        while (!queued_.empty()) {
            auto job = queued_.front();
            if (job->groupchat) {
                auto [it, added] = rooms_.try_emplace(job->request.to, make_room(job->request.to));
                Room &room = it->second;
                if (!room.refused.empty() && now - room.refused_at < rejoin_after) {
                    job->finished = true;
                    job->status = SendStatus::refused;
                    job->detail = "the room " + room.jid + " refused the bot: " + room.refused;
                    queued_.pop_front();
                    cv_.notify_all();
                    continue;
                }
                if (!room.joined) {
                    if (added) log_(RELAIS_LOG_INFO, "xmpp: joining " + room.jid + " for a delivery");
                    if (added || !room.refused.empty() || now - room.joining_since > join_timeout) {
                        room.refused.clear();
                        join(room);
                    }
                    break; // in order: nothing overtakes the job waiting for its room
                }
            }
            queued_.pop_front();
            ready.push_back(job);
        }
    }
    for (auto &job : ready) start_job(job);
}

void Client::start_job(const std::shared_ptr<Job> &job) {
    const SendRequest &r = job->request;
    for (size_t i = 0; i < r.pieces.size(); ++i) {
        Outgoing out;
        out.to = r.to;
        out.type = job->groupchat ? "groupchat" : "chat";
        out.id = next_id();
        out.body = r.pieces[i];
        if (i == 0) { // the reply or the correction is carried by the first piece
            out.reply_id = r.reply_id;
            out.replace_id = r.replace_id;
        }
        xmpp_stanza_t *m = build_message(ctx_, out);
        xmpp_send(conn_, m);
        xmpp_stanza_release(m);
        job->ids.push_back(out.id);
        by_piece_id_[out.id] = job;
        sent_recently_.insert(out.id);
        sent_order_.push_back(out.id);
        if (sent_order_.size() > max_remembered_ids) {
            sent_recently_.erase(sent_order_.front());
            sent_order_.pop_front();
        }
    }
    if (!job->groupchat) { // a person: the server handled the messages once it answers a ping sent after them
        job->ping_id = next_id();
        by_ping_id_[job->ping_id] = job;
        job->native_id = job->ids.empty() ? "" : job->ids.front();
        ping(job->ping_id);
    }
}

void Client::finish(const std::shared_ptr<Job> &job, SendStatus status, const std::string &detail) {
    for (const auto &id : job->ids) by_piece_id_.erase(id);
    if (!job->ping_id.empty()) by_ping_id_.erase(job->ping_id);
    {
        std::lock_guard lock(mutex_);
        if (job->finished) return;
        job->finished = true;
        job->status = status;
        job->detail = detail;
    }
    cv_.notify_all();
}

void Client::fail_in_flight(const std::string &why) {
    std::set<std::shared_ptr<Job>> jobs;
    for (auto &[id, job] : by_piece_id_) jobs.insert(job);
    for (auto &[id, job] : by_ping_id_) jobs.insert(job);
    for (const auto &job : jobs) finish(job, SendStatus::lost, why);
    by_piece_id_.clear();
    by_ping_id_.clear();
}

std::string Client::remember_id(const std::string &room, const std::string &id, const std::string &native) {
    if (id.empty() || native.empty()) return native;
    std::string key = room + "|" + id;
    if (native_by_id_.emplace(key, native).second) {
        native_order_.push_back(key);
        if (native_order_.size() > max_remembered_ids) {
            native_by_id_.erase(native_order_.front());
            native_order_.pop_front();
        }
    }
    return native;
}

// --- receiving -------------------------------------------------------------------------------------------------

int Client::on_message_stanza(xmpp_stanza_t *stanza) {
    MessageFields f = read_message(stanza, own_bare_);
    if (!f.problem.empty()) {
        count_("malformed_stanzas");
        log_(RELAIS_LOG_WARN, "xmpp: skipped a message from " + (f.from.empty() ? "an unknown sender" : f.from) +
                                  ": " + f.problem);
        return 1;
    }
    if (f.type == "error") on_message_error(f);
    else if (f.type == "groupchat") on_group_message(f);
    else on_direct_message(f);
    return 1;
}

void Client::on_message_error(const MessageFields &f) {
    std::string id = f.id;
    auto it = by_piece_id_.find(id);
    if (it == by_piece_id_.end()) {
        log_(RELAIS_LOG_WARN, "xmpp: " + f.from + " returned an error: " + f.error);
        return;
    }
    auto job = it->second;
    count_("send_refusals");
    log_(RELAIS_LOG_WARN, "xmpp: " + f.from_bare + " refused a message: " + f.error);
    if (f.error.rfind("not-acceptable", 0) == 0 || f.error.rfind("not-authorized", 0) == 0) {
        // The room no longer counts the bot as an occupant (it restarted, or kicked us): join again.
        std::lock_guard lock(mutex_);
        auto room = rooms_.find(f.from_bare);
        if (room != rooms_.end()) room->second.joined = false;
    }
    finish(job, SendStatus::rejected, f.from_bare + " refused the message: " + f.error);
}

void Client::on_group_message(const MessageFields &f) {
    std::string nick;
    bool history_done;
    {
        std::lock_guard lock(mutex_);
        auto room = rooms_.find(f.from_bare);
        if (room == rooms_.end()) return; // a room we are not in (any more)
        if (f.has_subject && !f.has_body) room->second.history_done = true; // the subject ends the join
        nick = room->second.nick;
        history_done = room->second.history_done;
    }
    if (f.from_resource.empty()) return; // the room itself (subject, status)
    const std::string &mine = f.origin_id.empty() ? f.id : f.origin_id;
    std::string native = f.stanza_id.empty() ? f.id : f.stanza_id;
    auto it = mine.empty() ? by_piece_id_.end() : by_piece_id_.find(mine);
    if (it != by_piece_id_.end()) { // the room reflected a piece we sent: it has it
        auto job = it->second;
        by_piece_id_.erase(it);
        remember_id(f.from_bare, mine, native);
        if (!job->ids.empty() && job->ids.front() == mine) {
            std::lock_guard lock(mutex_);
            job->native_id = native;
        }
        if (++job->confirmed == job->ids.size()) finish(job, SendStatus::sent, {});
        return;
    }
    if (sent_recently_.count(mine) || f.from_resource == nick) return; // our own words
    if (f.delayed && !history_done) return;                            // history replayed on join
    if (!f.has_body) return;                                           // chat states, receipts
    Incoming in;
    in.channel = f.from_bare;
    in.author = f.from_resource;
    in.author_id = f.real_jid.empty() ? f.from : f.real_jid.substr(0, f.real_jid.find('/'));
    in.text = f.body;
    if (in.text.size() > config_.max_length) {
        count_("overlong_messages");
        log_(RELAIS_LOG_WARN, "xmpp: a message from " + f.from + " is " + std::to_string(in.text.size()) +
                                  " bytes, over max_length " + std::to_string(config_.max_length) + ": cut to it");
        in.text = cut_utf8(in.text, config_.max_length);
    }
    in.native_id = remember_id(f.from_bare, mine, native);
    if (!f.replace_id.empty()) {
        in.edit = true;
        auto known = native_by_id_.find(f.from_bare + "|" + f.replace_id);
        in.reply_to = known != native_by_id_.end() ? known->second : f.replace_id;
    } else if (!f.reply_id.empty()) {
        in.reply = true;
        in.reply_to = f.reply_id;
    }
    on_message_(in);
}

void Client::on_direct_message(const MessageFields &f) {
    if (!f.has_body) return;
    bool from_room;
    {
        std::lock_guard lock(mutex_);
        from_room = rooms_.count(f.from_bare) > 0;
    }
    if (from_room) {
        log_(RELAIS_LOG_DEBUG, "xmpp: private message from " + f.from + " in a room ignored");
        return;
    }
    bool allowed = config_.all_direct ||
                   std::find(config_.peers.begin(), config_.peers.end(), f.from_bare) != config_.peers.end();
    if (!allowed) {
        log_(RELAIS_LOG_DEBUG, "xmpp: direct message from " + f.from_bare + " ignored (not in `direct`)");
        return;
    }
    Incoming in;
    in.direct = true;
    in.channel = f.from_bare;
    in.author = f.from_bare.substr(0, f.from_bare.find('@'));
    in.author_id = f.from_bare;
    in.text = f.body.size() > config_.max_length ? cut_utf8(f.body, config_.max_length) : f.body;
    std::string mine = f.origin_id.empty() ? f.id : f.origin_id;
    in.native_id = remember_id(f.from_bare, mine, f.stanza_id.empty() ? f.id : f.stanza_id);
    if (!f.replace_id.empty()) {
        in.edit = true;
        auto known = native_by_id_.find(f.from_bare + "|" + f.replace_id);
        in.reply_to = known != native_by_id_.end() ? known->second : f.replace_id;
    } else if (!f.reply_id.empty()) {
        in.reply = true;
        in.reply_to = f.reply_id;
    }
    on_message_(in);
}

int Client::on_presence(xmpp_stanza_t *stanza) {
    PresenceFields p = read_presence(stanza);
    std::lock_guard lock(mutex_);
    if (stopping_) return 1; // the rooms answer our leaving: nothing to act on
    auto it = rooms_.find(p.from_bare);
    if (it == rooms_.end()) return 1;
    Room &room = it->second;
    bool self = std::find(p.status_codes.begin(), p.status_codes.end(), 110) != p.status_codes.end() ||
                p.from_resource == room.nick;
    if (p.type == "error") {
        if (p.error_condition == "conflict" && room.nick_tries + 1 < max_nick_tries) {
            std::string taken = room.nick;
            room.nick = config_.nick + std::string(++room.nick_tries, '_');
            count_("nick_collisions");
            log_(RELAIS_LOG_WARN, "xmpp: the nick " + taken + " is in use in " + room.jid + "; trying " + room.nick);
            join(room);
            return 1;
        }
        room.joined = false;
        room.refused = p.error_condition + (p.error_text.empty() ? "" : " (" + p.error_text + ")");
        room.refused_at = clock::now();
        count_("join_refusals");
        log_(RELAIS_LOG_ERROR, "xmpp: cannot join " + room.jid + " as " + room.nick + ": " + room.refused +
                                   "; its deliveries are retried, the other rooms carry on");
        cv_.notify_all();
        return 1;
    }
    if (!self) return 1;
    if (p.type == "unavailable") {
        room.joined = false;
        bool kicked = std::find(p.status_codes.begin(), p.status_codes.end(), 307) != p.status_codes.end();
        log_(RELAIS_LOG_WARN, "xmpp: left " + room.jid + (kicked ? " (kicked); joining again" : ""));
        if (kicked) join(room);
        return 1;
    }
    if (!room.joined) {
        room.joined = true;
        room.refused.clear();
        log_(RELAIS_LOG_INFO, "xmpp: joined " + room.jid + " as " + room.nick);
        cv_.notify_all();
    }
    return 1;
}

int Client::on_iq(xmpp_stanza_t *stanza) {
    const char *type_c = xmpp_stanza_get_type(stanza);
    const char *id_c = xmpp_stanza_get_id(stanza);
    std::string type = type_c ? type_c : "", id = id_c ? id_c : "";
    if (type == "result" || type == "error") {
        if (!keepalive_id_.empty() && id == keepalive_id_) {
            keepalive_id_.clear();
        } else if (auto it = by_ping_id_.find(id); it != by_ping_id_.end()) {
            finish(it->second, SendStatus::sent, {}); // any answer means the server handled what came before
        }
        return 1;
    }
    if (type != "get" && type != "set") return 1;
    xmpp_stanza_t *reply;
    if (type == "get" && xmpp_stanza_get_child_by_name_and_ns(stanza, "ping", ns_ping)) {
        reply = xmpp_iq_new(ctx_, "result", id.c_str());
        if (const char *from = xmpp_stanza_get_from(stanza)) xmpp_stanza_set_to(reply, from);
    } else {
        reply = xmpp_stanza_reply_error(stanza, "cancel", "service-unavailable", nullptr);
    }
    if (reply) {
        xmpp_send(conn_, reply);
        xmpp_stanza_release(reply);
    }
    return 1;
}

// --- libstrophe callbacks --------------------------------------------------------------------------------------

void Client::connection_trampoline(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                                   xmpp_stream_error_t *stream_error, void *self) {
    static_cast<Client *>(self)->on_connection(conn, event, error, stream_error);
}
int Client::message_trampoline(xmpp_conn_t *, xmpp_stanza_t *stanza, void *self) {
    return static_cast<Client *>(self)->on_message_stanza(stanza);
}
int Client::presence_trampoline(xmpp_conn_t *, xmpp_stanza_t *stanza, void *self) {
    return static_cast<Client *>(self)->on_presence(stanza);
}
int Client::iq_trampoline(xmpp_conn_t *, xmpp_stanza_t *stanza, void *self) {
    return static_cast<Client *>(self)->on_iq(stanza);
}
void Client::log_trampoline(void *self, xmpp_log_level_t level, const char *area, const char *msg) {
    auto *c = static_cast<Client *>(self);
    if (msg && std::strncmp(msg, "parse error", 11) == 0) { // libstrophe then closes the stream (invalid-xml)
        c->count_("malformed_xml");
        c->log_(RELAIS_LOG_WARN, "xmpp: the server sent XML that is not well-formed; closing the stream and "
                                 "reconnecting");
        return;
    }
    // libstrophe's own warnings and errors (TLS, authentication) reach the host's log; its debug chatter does not.
    if (level < XMPP_LEVEL_WARN) return;
    c->log_(level == XMPP_LEVEL_ERROR ? RELAIS_LOG_ERROR : RELAIS_LOG_WARN,
            std::string("xmpp: libstrophe ") + (area ? area : "") + ": " + (msg ? msg : ""));
}

} // namespace relais::xmpp
