// connection.cpp — the IRC client session: connect, register, join, read, write through the flood queue, reconnect.
#include "connection.hpp"

#include "line.hpp"
#include "split.hpp"

#include <algorithm>
#include <random>

namespace relais::irc {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string base64(std::string_view in) {
    static const char *table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

// A server line as it can be shown in a log: control bytes escaped, cut to 200 bytes.
std::string printable(std::string_view raw) {
    std::string out;
    for (char c : raw.substr(0, 200)) {
        if (static_cast<unsigned char>(c) < 0x20) {
            static const char *hex = "0123456789abcdef";
            out += "\\x";
            out += hex[(c >> 4) & 15];
            out += hex[c & 15];
        } else {
            out += c;
        }
    }
    if (raw.size() > 200) out += "…";
    return out;
}

std::string nick_variant(const std::string &base, unsigned attempt) {
    std::string suffix = attempt == 1 ? "_" : std::to_string(attempt);
    std::string nick = base.substr(0, std::min<size_t>(base.size(), 30 - suffix.size()));
    return nick + suffix;
}

bool refusing_join(const std::string &code) {
    // channel full, invite only, banned, bad key, needs a registered nick, no such channel, too many channels
    return code == "471" || code == "473" || code == "474" || code == "475" || code == "477" || code == "403" ||
           code == "405";
}

} // namespace

Connection::Connection(IrcConfig config, LogFn log, MessageFn on_message, CountFn count)
    : config_(std::move(config)), log_(std::move(log)), on_message_(std::move(on_message)), count_(std::move(count)),
      bucket_(config_.burst, config_.rate) {
    nick_ = config_.nick;
    channels_ = config_.channels;
}

Connection::~Connection() { stop(); }

std::string Connection::where() const { return config_.server + ":" + std::to_string(config_.port); }

void Connection::start() {
    {
        std::lock_guard lock(mutex_);
        if (started_) return;
        started_ = true;
    }
    if (config_.tls) {
        if (config_.tls_verify) {
            ssl_ctx_.set_verify_mode(asio::ssl::verify_peer);
            if (config_.tls_ca.empty()) ssl_ctx_.set_default_verify_paths();
            else ssl_ctx_.load_verify_file(config_.tls_ca);
        } else {
            ssl_ctx_.set_verify_mode(asio::ssl::verify_none);
        }
    }
    work_.emplace(io_.get_executor());
    asio::post(io_, [this] { connect(); });
    thread_ = std::thread([this] { io_.run(); });
}

void Connection::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!started_ || stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    asio::post(io_, [this] { shutdown(); });
    if (thread_.joinable()) thread_.join();
}

void Connection::shutdown() {
    if (open_) {
        // Best effort: tell the server why, without waiting for it.
        boost::system::error_code ec;
        std::string quit = "QUIT :Relais is stopping\r\n";
        if (!tls_) asio::write(*socket_, asio::buffer(quit), ec);
        lowest().close(ec);
        open_ = false;
    }
    fail_all("the connector is stopping");
    resolver_.cancel();
    work_.reset();
    io_.stop();
}

// ---- connecting and registering ----

void Connection::connect() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        nick_ = config_.nick;
        mask_.clear();
    }
    uint64_t s = ++session_;
    read_buffer_.clear();
    discarding_ = false;
    control_.clear();
    caps_offered_.clear();
    caps_enabled_.clear();
    cap_done_ = sasl_done_ = false;
    nick_tries_ = 0;
    if (config_.tls) {
        tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, ssl_ctx_);
        socket_.reset();
    } else {
        socket_ = std::make_unique<tcp::socket>(io_);
        tls_.reset();
    }
    connect_timer_.expires_after(std::chrono::milliseconds(config_.connect_timeout_ms));
    connect_timer_.async_wait([this, s](boost::system::error_code ec) {
        if (ec || s != session_) return;
        bool registered;
        {
            std::lock_guard lock(mutex_);
            registered = registered_;
        }
        if (!registered)
            disconnect("not registered within " + std::to_string(config_.connect_timeout_ms / 1000) +
                       " s (connect_timeout)");
    });
    resolver_.async_resolve(config_.server, std::to_string(config_.port),
                            [this, s](boost::system::error_code ec, tcp::resolver::results_type results) {
        if (s != session_) return;
        if (ec) return disconnect("cannot resolve " + config_.server + ": " + ec.message());
        asio::async_connect(lowest(), results, [this, s](boost::system::error_code ec, const tcp::endpoint &) {
            if (s != session_) return;
            if (ec) return disconnect("cannot connect: " + ec.message());
            open_ = true;
            if (!tls_) return on_connected(s);
            if (!SSL_set_tlsext_host_name(tls_->native_handle(), config_.server.c_str()))
                return disconnect("cannot set the TLS server name");
            if (config_.tls_verify) tls_->set_verify_callback(asio::ssl::host_name_verification(config_.server));
            tls_->async_handshake(asio::ssl::stream_base::client, [this, s](boost::system::error_code ec) {
                if (s != session_) return;
                if (ec)
                    return disconnect("TLS handshake failed: " + ec.message() +
                                      (config_.tls_verify ? " (check tls_ca, or tls_verify: false for a test server)"
                                                          : ""));
                on_connected(s);
            });
        });
    });
}

void Connection::on_connected(uint64_t s) {
    log_(RELAIS_LOG_INFO, "irc: connected to " + where() + (tls_ ? " (TLS)" : "") + ", registering as " + config_.nick);
    last_read_ = std::chrono::steady_clock::now();
    write_control("CAP LS 302");
    if (!config_.password.empty()) write_control(format_line("PASS", {config_.password}));
    write_control(format_line("NICK", {config_.nick}));
    write_control(format_line("USER", {config_.username, "0", "*", config_.realname}));
    read(s);
    keepalive(s);
}

void Connection::on_welcome(const std::string &nick) {
    std::vector<std::string> channels;
    {
        std::lock_guard lock(mutex_);
        registered_ = true;
        ready_session_ = session_;
        nick_ = nick;
        channels = channels_;
    }
    cv_.notify_all();
    connect_timer_.cancel();
    attempts_ = 0;
    std::string list;
    for (const auto &c : channels) list += (list.empty() ? "" : ", ") + c;
    log_(RELAIS_LOG_INFO, "irc: registered on " + where() + " as " + nick +
                              (list.empty() ? "" : "; joining " + list));
    count_("connects");
    for (const auto &c : channels) join(c);
}

void Connection::join(const std::string &channel) { write_control(format_line("JOIN", {channel})); }

void Connection::handle_cap(const Line &line) {
    const std::string &sub = line.param(1);
    if (sub == "LS") {
        bool more = line.params.size() >= 4 && line.param(2) == "*";
        std::string_view list = more ? line.param(3) : line.param(2);
        while (!list.empty()) {
            size_t sp = list.find(' ');
            std::string_view cap = list.substr(0, sp);
            list = sp == std::string_view::npos ? std::string_view() : list.substr(sp + 1);
            if (!cap.empty()) caps_offered_.insert(std::string(cap.substr(0, cap.find('='))));
        }
        if (more || cap_done_) return;
        std::vector<std::string> wanted;
        for (const char *cap : {"server-time", "message-tags", "echo-message", "batch"})
            if (caps_offered_.count(cap)) wanted.emplace_back(cap);
        bool sasl = !config_.sasl_username.empty();
        if (sasl && caps_offered_.count("sasl")) wanted.emplace_back("sasl");
        else if (sasl)
            log_(RELAIS_LOG_WARN, "irc: " + where() + " does not offer SASL; registering without sasl_username");
        if (wanted.empty()) {
            cap_done_ = true;
            return write_control("CAP END");
        }
        std::string req;
        for (const auto &w : wanted) req += (req.empty() ? "" : " ") + w;
        write_control("CAP REQ :" + req);
    } else if (sub == "ACK") {
        std::string_view list = line.param(2);
        while (!list.empty()) {
            size_t sp = list.find(' ');
            std::string_view cap = list.substr(0, sp);
            list = sp == std::string_view::npos ? std::string_view() : list.substr(sp + 1);
            if (!cap.empty() && cap.front() != '-') caps_enabled_.insert(std::string(cap));
        }
        if (cap_done_) return;
        std::string enabled;
        for (const auto &c : caps_enabled_) enabled += (enabled.empty() ? "" : " ") + c;
        log_(RELAIS_LOG_INFO, "irc: capabilities enabled on " + where() + ": " + enabled);
        if (caps_enabled_.count("sasl") && !config_.sasl_username.empty()) {
            write_control("AUTHENTICATE PLAIN");
        } else {
            cap_done_ = true;
            write_control("CAP END");
        }
    } else if (sub == "NAK") {
        log_(RELAIS_LOG_WARN, "irc: " + where() + " refused the capabilities " + line.param(2) +
                                  "; carrying on without them");
        if (!cap_done_) {
            cap_done_ = true;
            write_control("CAP END");
        }
    }
}

// ---- reading ----

void Connection::read(uint64_t s) {
    auto buffer = std::make_shared<std::array<char, 16384>>();
    with_stream([&](auto &stream) {
        stream.async_read_some(asio::buffer(*buffer), [this, s, buffer](boost::system::error_code ec, size_t n) {
            if (s != session_) return;
            if (ec) {
                return disconnect(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                                      ? std::string("the server closed the connection")
                                      : "read failed: " + ec.message());
            }
            last_read_ = std::chrono::steady_clock::now();
            on_data(buffer->data(), n);
            if (s == session_ && open_) read(s);
        });
    });
}

void Connection::on_data(const char *data, size_t n) {
    uint64_t s = session_;
    std::string_view in(data, n);
    while (!in.empty() && s == session_) {
        size_t nl = in.find('\n');
        if (nl == std::string_view::npos) {
            if (!discarding_) read_buffer_.append(in);
            if (read_buffer_.size() > max_incoming_bytes) {
                log_(RELAIS_LOG_WARN, "irc: ignored an over-long line from " + where() + " (more than " +
                                          std::to_string(max_incoming_bytes) + " bytes): " + printable(read_buffer_));
                count_("overlong_lines");
                read_buffer_.clear();
                discarding_ = true;
            }
            return;
        }
        if (!discarding_) read_buffer_.append(in.substr(0, nl));
        in.remove_prefix(nl + 1);
        bool skip = discarding_ || read_buffer_.size() > max_incoming_bytes;
        if (skip && !discarding_) {
            log_(RELAIS_LOG_WARN, "irc: ignored an over-long line from " + where() + ": " + printable(read_buffer_));
            count_("overlong_lines");
        }
        discarding_ = false;
        std::string line = std::move(read_buffer_);
        read_buffer_.clear();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!skip && !line.empty()) on_line(line);
    }
}

void Connection::on_line(std::string_view raw) {
    auto parsed = parse_line(raw);
    if (!parsed) {
        log_(RELAIS_LOG_WARN, "irc: ignored a malformed line from " + where() + ": " + printable(raw));
        count_("malformed_lines");
        return;
    }
    const Line &line = *parsed;
    const std::string &cmd = line.command;
    std::string nick, mask;
    {
        std::lock_guard lock(mutex_);
        nick = nick_;
        mask = mask_;
    }
    bool from_me = irc_lower(prefix_nick(line.prefix)) == irc_lower(nick);

    if (cmd == "PING") return write_control(format_line("PONG", {line.param(0)}));
    if (cmd == "PONG") {
        std::string_view token = line.params.empty() ? std::string_view() : std::string_view(line.params.back());
        if (token.substr(0, 7) == "relais-") {
            try {
                confirm_upto(std::stoull(std::string(token.substr(7))));
            } catch (const std::exception &) {
            }
        }
        return;
    }
    if (cmd == "CAP") return handle_cap(line);
    if (cmd == "AUTHENTICATE") {
        if (line.param(0) != "+") return;
        std::string payload = base64(config_.sasl_username + '\0' + config_.sasl_username + '\0' + config_.sasl_password);
        for (size_t i = 0; i < payload.size(); i += 400) write_control("AUTHENTICATE " + payload.substr(i, 400));
        if (payload.size() % 400 == 0) write_control("AUTHENTICATE +");
        return;
    }
    if (cmd == "903" || cmd == "900") {
        if (cmd == "903") {
            log_(RELAIS_LOG_INFO, "irc: SASL PLAIN login as " + config_.sasl_username + " accepted");
            if (!cap_done_) {
                cap_done_ = true;
                write_control("CAP END");
            }
        }
        return;
    }
    if (cmd == "902" || cmd == "904" || cmd == "905" || cmd == "906" || cmd == "908") {
        if (sasl_done_) return;
        sasl_done_ = true;
        log_(RELAIS_LOG_ERROR, "irc: SASL PLAIN login as " + config_.sasl_username + " failed (" + cmd + " " +
                                   line.params.back() + "); check sasl_username and sasl_password. Carrying on "
                                                        "without logging in");
        count_("sasl_failures");
        if (!cap_done_) {
            cap_done_ = true;
            write_control("CAP END");
        }
        return;
    }
    if (cmd == "001") return on_welcome(line.param(0).empty() ? nick : line.param(0));
    if (cmd == "433" || cmd == "432" || cmd == "437") {
        bool registered;
        {
            std::lock_guard lock(mutex_);
            registered = registered_;
        }
        if (registered) return;
        std::string next = nick_variant(config_.nick, ++nick_tries_);
        log_(RELAIS_LOG_WARN, "irc: the nick " + line.param(1) + " is refused by " + where() + " (" + cmd + " " +
                                  line.params.back() + "); trying " + next);
        count_("nick_collisions");
        {
            std::lock_guard lock(mutex_);
            nick_ = next;
        }
        return write_control(format_line("NICK", {next}));
    }
    if (cmd == "NICK" && from_me) {
        std::lock_guard lock(mutex_);
        nick_ = line.param(0);
        mask_.clear();
        return;
    }
    if (cmd == "JOIN" && from_me) {
        std::string key = irc_lower(line.param(0));
        {
            std::lock_guard lock(mutex_);
            joined_.insert(key);
            refused_.erase(key);
            mask_ = line.prefix;
        }
        cv_.notify_all();
        log_(RELAIS_LOG_INFO, "irc: joined " + line.param(0));
        return;
    }
    if ((cmd == "PART" && from_me) || (cmd == "KICK" && irc_lower(line.param(1)) == irc_lower(nick))) {
        std::string channel = line.param(0);
        {
            std::lock_guard lock(mutex_);
            joined_.erase(irc_lower(channel));
        }
        if (cmd == "KICK") {
            log_(RELAIS_LOG_WARN, "irc: kicked from " + channel + " by " + std::string(prefix_nick(line.prefix)) +
                                      " (" + line.param(2) + "); joining again");
            join(channel);
        }
        return;
    }
    if (refusing_join(cmd)) {
        std::string channel = line.param(1);
        std::string why = "cannot join " + channel + ": " + line.params.back() + " (" + cmd + ")";
        {
            std::lock_guard lock(mutex_);
            refused_[irc_lower(channel)] = why;
        }
        cv_.notify_all();
        log_(RELAIS_LOG_ERROR, "irc: " + why + "; messages for it are kept and retried. Invite the bot, lift the "
                                               "ban or fix the channel name");
        count_("join_refusals");
        return;
    }
    if (cmd == "404") {
        log_(RELAIS_LOG_WARN, "irc: " + where() + " would not let the bot speak in " + line.param(1) + ": " +
                                  line.params.back());
        count_("send_refusals");
        return;
    }
    if (cmd == "ERROR") {
        log_(RELAIS_LOG_WARN, "irc: " + where() + " closes the link: " + line.param(0));
        return;
    }
    if (cmd == "PRIVMSG" || cmd == "NOTICE") {
        if (line.params.size() < 2 || line.prefix.find('!') == std::string::npos) return; // server notices
        if (from_me) return; // echo-message: our own line
        const std::string &target = line.param(0);
        if (!is_channel(target)) return; // private messages are not relayed
        bool notice = cmd == "NOTICE";
        if (notice && !config_.emit_notices) return;
        Incoming in;
        in.channel = target;
        in.nick = std::string(prefix_nick(line.prefix));
        in.mask = line.prefix;
        in.notice = notice;
        std::string_view text = line.param(1);
        if (auto action = ctcp_action(text)) {
            in.action = true;
            text = *action;
        } else if (is_ctcp(text)) {
            return; // VERSION, PING…: not messages
        }
        in.text = to_utf8(text);
        in.msgid = std::string(line.tag("msgid"));
        in.time_ms = parse_server_time(line.tag("time"));
        on_message_(in);
        return;
    }
}

// ---- writing ----

void Connection::write_control(std::string line) {
    control_.push_back(std::move(line));
    pump();
}

void Connection::pump() {
    if (writing_ || !open_) return;
    auto buffer = std::make_shared<std::string>();
    while (!control_.empty()) {
        *buffer += control_.front();
        *buffer += "\r\n";
        control_.pop_front();
    }
    bool registered;
    {
        std::lock_guard lock(mutex_);
        registered = registered_;
    }
    if (registered) {
        auto now = std::chrono::steady_clock::now();
        while (!data_.empty()) {
            if (data_.front().batch->cancelled) {
                data_.pop_front();
                continue;
            }
            if (!bucket_.try_take(now)) break;
            *buffer += data_.front().line;
            *buffer += "\r\n";
            in_flight_.push_back(std::move(data_.front()));
            data_.pop_front();
        }
        // The server answers a PING after it has handled every line before it: lines count as sent once the PONG
        // comes back. One PING at a time; lines written meanwhile wait for the next one.
        if (!in_flight_.empty() && !ping_out_) {
            ping_out_ = true;
            ping_sent_ = std::chrono::steady_clock::now();
            uint64_t token = ++ping_seq_;
            auto &batches = unconfirmed_[token];
            for (auto &p : in_flight_) batches.push_back(std::move(p.batch));
            in_flight_.clear();
            *buffer += "PING :relais-" + std::to_string(token) + "\r\n";
        }
        if (!data_.empty() && !flood_armed_) {
            flood_armed_ = true;
            flood_timer_.expires_after(bucket_.wait(now));
            flood_timer_.async_wait([this](boost::system::error_code ec) {
                flood_armed_ = false;
                if (!ec) pump();
            });
        }
    }
    if (buffer->empty()) return;
    writing_ = true;
    uint64_t s = session_;
    with_stream([&](auto &stream) {
        asio::async_write(stream, asio::buffer(*buffer), [this, s, buffer](boost::system::error_code ec, size_t) {
            if (s != session_) return;
            writing_ = false;
            if (ec) return disconnect("write failed: " + ec.message());
            pump();
        });
    });
}

void Connection::confirm_upto(uint64_t token) {
    while (!unconfirmed_.empty() && unconfirmed_.begin()->first <= token) {
        for (auto &batch : unconfirmed_.begin()->second) finish(batch, true, {});
        unconfirmed_.erase(unconfirmed_.begin());
    }
    if (token == ping_seq_) ping_out_ = false;
    pump();
}

void Connection::fail_all(const std::string &why) {
    for (auto &[token, batches] : unconfirmed_)
        for (auto &batch : batches) finish(batch, false, why);
    for (auto &p : in_flight_) finish(p.batch, false, why);
    for (auto &p : data_) finish(p.batch, false, why);
    unconfirmed_.clear();
    in_flight_.clear();
    data_.clear();
    ping_out_ = false;
}

void Connection::finish(const std::shared_ptr<Batch> &batch, bool ok, const std::string &why) {
    {
        std::lock_guard lock(batch->mutex);
        if (batch->finished) return;
        if (!ok) {
            batch->failed = true;
            batch->why = why;
            batch->finished = true;
        } else if (--batch->remaining == 0) {
            batch->finished = true;
        }
    }
    batch->cv.notify_all();
}

std::optional<SendOutcome> Connection::wait_ready(const std::string &target,
                                                  std::chrono::steady_clock::time_point deadline, uint64_t &session) {
    bool channel = is_channel(target);
    std::string key = irc_lower(target);
    std::unique_lock lock(mutex_);
    if (stopping_ || !started_) return SendOutcome{SendStatus::stopped, "the connector is stopping"};
    if (channel && std::none_of(channels_.begin(), channels_.end(),
                                [&](const std::string &c) { return irc_lower(c) == key; })) {
        channels_.push_back(target);
        if (registered_) asio::post(io_, [this, target] { join(target); });
    }
    cv_.wait_until(lock, deadline, [&] {
        return stopping_ || (registered_ && (!channel || joined_.count(key) || refused_.count(key)));
    });
    if (stopping_) return SendOutcome{SendStatus::stopped, "the connector is stopping"};
    if (!registered_) return SendOutcome{SendStatus::not_connected, "not connected to " + where() + " yet"};
    if (channel && !joined_.count(key)) {
        auto it = refused_.find(key);
        if (it != refused_.end()) return SendOutcome{SendStatus::refused, it->second};
        return SendOutcome{SendStatus::not_joined, "not in " + target + " yet"};
    }
    session = ready_session_;
    return std::nullopt;
}

SendOutcome Connection::send(const std::string &target, const std::string &text, std::chrono::milliseconds wait) {
    std::vector<SendOutcome> outcomes = send_all({{target, text}}, wait);
    return outcomes.front();
}

std::vector<SendOutcome> Connection::send_all(const std::vector<Outgoing> &texts, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::vector<std::shared_ptr<Batch>> batches; // one a text queued, in order
    std::vector<size_t> line_counts;
    std::vector<Pending> lines;
    std::optional<SendOutcome> stopped_at; // why the text after the queued ones was not queued
    uint64_t session = 0;
    for (const Outgoing &out : texts) {
        uint64_t ready_in = 0;
        stopped_at = wait_ready(out.target, deadline, ready_in);
        if (!stopped_at && !batches.empty() && ready_in != session)
            stopped_at = SendOutcome{SendStatus::lost, "the connection was lost"};
        if (stopped_at) break;
        session = ready_in;
        std::vector<std::string> pieces = split_text(out.text, text_budget(out.target));
        auto batch = std::make_shared<Batch>();
        batch->remaining = pieces.size();
        batch->finished = pieces.empty();
        for (const auto &piece : pieces) lines.push_back({format_line("PRIVMSG", {out.target, piece}), batch});
        batches.push_back(std::move(batch));
        line_counts.push_back(pieces.size());
    }
    if (!lines.empty()) {
        asio::post(io_, [this, session, lines = std::move(lines)]() mutable {
            if (session != session_ || !open_) {
                for (const auto &l : lines) finish(l.batch, false, "the connection was lost");
                return;
            }
            for (auto &l : lines) data_.push_back(std::move(l));
            pump();
        });
    }
    std::vector<SendOutcome> outcomes;
    for (size_t i = 0; i < batches.size(); ++i) {
        Batch &b = *batches[i];
        std::unique_lock lock(b.mutex);
        bool finished = b.cv.wait_until(lock, deadline, [&] { return b.finished; });
        if (finished && !b.failed) {
            outcomes.push_back({SendStatus::written, {}, line_counts[i]});
            continue;
        }
        for (size_t j = i; j < batches.size(); ++j) batches[j]->cancelled = true;
        if (!finished)
            outcomes.push_back({SendStatus::timed_out, "not written within " + std::to_string(wait.count() / 1000) +
                                                           " s (flood-control queue too long?)"});
        else outcomes.push_back({SendStatus::lost, b.why});
        return outcomes;
    }
    if (stopped_at) outcomes.push_back(*stopped_at);
    return outcomes;
}

size_t Connection::text_budget(const std::string &target) const {
    std::string mask;
    {
        std::lock_guard lock(mutex_);
        // Until the server shows the bot its own mask, assume the longest usual one (user 10, host 63).
        mask = mask_.empty() ? nick_ + "!~" + config_.username.substr(0, 10) + "@" + std::string(63, 'h') : mask_;
    }
    // ":" mask " PRIVMSG " target " :" text "\r\n"
    size_t overhead = 1 + mask.size() + 9 + target.size() + 2 + 2;
    return overhead + 32 > max_line_bytes ? 32 : max_line_bytes - overhead;
}

// ---- losing the connection and getting it back ----

void Connection::disconnect(const std::string &reason) {
    ++session_; // handlers of the old connection see a different session and do nothing
    bool was_registered;
    {
        std::lock_guard lock(mutex_);
        was_registered = registered_;
        registered_ = false;
        joined_.clear();
        refused_.clear();
    }
    cv_.notify_all();
    boost::system::error_code ec;
    if (socket_ || tls_) lowest().close(ec);
    open_ = false;
    writing_ = false;
    control_.clear();
    fail_all("the connection was lost: " + reason);
    flood_timer_.cancel();
    connect_timer_.cancel();
    keepalive_timer_.cancel();
    if (was_registered) count_("disconnects");
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
    }
    unsigned shift = std::min(attempts_, 20u);
    uint64_t delay = std::min<uint64_t>(config_.reconnect_max_ms, config_.reconnect_min_ms << shift);
    static thread_local std::minstd_rand rng(std::random_device{}());
    delay = delay * (90 + rng() % 21) / 100; // ±10 % so that bots do not come back in lockstep
    delay = std::max<uint64_t>(delay, 1);
    ++attempts_;
    log_(was_registered ? RELAIS_LOG_WARN : RELAIS_LOG_INFO,
         "irc: disconnected from " + where() + ": " + reason + "; reconnecting in " + std::to_string(delay) + " ms");
    reconnect_timer_.expires_after(std::chrono::milliseconds(delay));
    reconnect_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) connect();
    });
}

void Connection::keepalive(uint64_t s) {
    keepalive_timer_.expires_after(30s);
    keepalive_timer_.async_wait([this, s](boost::system::error_code ec) {
        if (ec || s != session_) return;
        auto silent = std::chrono::steady_clock::now() - last_read_;
        if (silent > 150s) return disconnect("no data from the server for 150 s");
        if (ping_out_ && std::chrono::steady_clock::now() - ping_sent_ > 60s)
            return disconnect("no answer to PING for 60 s: the lines sent before it are retried");
        if (silent > 60s) write_control("PING :relais");
        keepalive(s);
    });
}

} // namespace relais::irc
