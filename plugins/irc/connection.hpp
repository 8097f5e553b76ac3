// connection.hpp — one IRC client connection over Boost.Asio: registration (CAP, SASL PLAIN, nick collisions),
// channels joined and rejoined, PING/PONG, incoming messages, and an outgoing queue paced by a token bucket.
// It reconnects by itself with exponential backoff. All network work happens on one thread of its own.
#pragma once

#include "config.hpp"
#include "line.hpp"
#include "token_bucket.hpp"

#include <relais/plugin.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace relais::irc {

// A message seen in a channel.
struct Incoming {
    std::string channel;
    std::string nick;
    std::string mask; // nick!user@host
    std::string text;
    std::string msgid;   // the IRCv3 msgid tag, when the server gives one
    int64_t time_ms = 0; // the IRCv3 server-time tag, 0 without it
    bool action = false; // CTCP ACTION (/me)
    bool notice = false;
};

enum class SendStatus { written, not_connected, not_joined, refused, lost, timed_out, stopped };

struct SendOutcome {
    SendStatus status;
    std::string detail;
    size_t lines = 0;
};

class Connection {
public:
    using LogFn = std::function<void(relais_log_level, const std::string &)>;
    using MessageFn = std::function<void(const Incoming &)>;
    using CountFn = std::function<void(const char *)>;

    Connection(IrcConfig config, LogFn log, MessageFn on_message, CountFn count);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    void start();
    void stop();

    // Sends `text` to `target` (a channel, joined on demand, or a nick): one PRIVMSG per line of the text, long
    // lines split to fit the 512-byte limit. The lines go through the flood-control queue; returns once every one
    // was written to the socket, or why not. Waits at most `wait` for the connection and the channel to be ready.
    SendOutcome send(const std::string &target, const std::string &text, std::chrono::milliseconds wait);

    // The same for several texts, queued together and in order: one wait for the server to confirm them all, not a
    // wait each. The outcomes come in order, up to and including the first text not written; the texts after it
    // were taken back from the queue (those already written may show once more when they are sent again).
    struct Outgoing {
        std::string target, text;
    };
    std::vector<SendOutcome> send_all(const std::vector<Outgoing> &texts, std::chrono::milliseconds wait);

    // The bytes of text one PRIVMSG to target may carry, so that the line the server relays fits 512 bytes.
    size_t text_budget(const std::string &target) const;

private:
    struct Batch {
        std::mutex mutex;
        std::condition_variable cv;
        size_t remaining = 0;
        bool finished = false, failed = false;
        std::string why;
        std::atomic<bool> cancelled{false};
    };
    struct Pending {
        std::string line;
        std::shared_ptr<Batch> batch;
    };
    using tcp = boost::asio::ip::tcp;

    // On the sender's thread: waits until `target` can be written to (connected, the channel joined). Nothing when
    // ready, with the connection's session; else why not.
    std::optional<SendOutcome> wait_ready(const std::string &target, std::chrono::steady_clock::time_point deadline,
                                          uint64_t &session);

    // All of these run on the connection's thread.
    void connect();
    void on_connected(uint64_t session);
    void read(uint64_t session);
    void on_data(const char *data, size_t n);
    void on_line(std::string_view raw);
    void handle_cap(const Line &line);
    void on_welcome(const std::string &nick);
    void join(const std::string &channel);
    void write_control(std::string line);
    void pump();
    void disconnect(const std::string &reason);
    void schedule_reconnect();
    void keepalive(uint64_t session);
    void shutdown();
    void confirm_upto(uint64_t token);
    void fail_all(const std::string &why);
    static void finish(const std::shared_ptr<Batch> &batch, bool ok, const std::string &why);
    template <class F>
    void with_stream(F &&f) {
        if (tls_) f(*tls_);
        else f(*socket_);
    }
    tcp::socket &lowest() { return tls_ ? tls_->next_layer() : *socket_; }
    std::string where() const;

    IrcConfig config_;
    LogFn log_;
    MessageFn on_message_;
    CountFn count_;

    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
    boost::asio::ssl::context ssl_ctx_{boost::asio::ssl::context::tls_client};
    tcp::resolver resolver_{io_};
    std::unique_ptr<tcp::socket> socket_;
    std::unique_ptr<boost::asio::ssl::stream<tcp::socket>> tls_;
    boost::asio::steady_timer reconnect_timer_{io_}, flood_timer_{io_}, connect_timer_{io_}, keepalive_timer_{io_};

    // Connection thread only.
    uint64_t session_ = 0;
    bool open_ = false, writing_ = false, flood_armed_ = false;
    unsigned attempts_ = 0, nick_tries_ = 0;
    std::string read_buffer_;
    bool discarding_ = false;
    std::deque<std::string> control_;
    std::deque<Pending> data_;
    std::vector<Pending> in_flight_;                             // written, not yet confirmed
    std::map<uint64_t, std::vector<std::shared_ptr<Batch>>> unconfirmed_; // PING token → batches sent before it
    uint64_t ping_seq_ = 0;
    bool ping_out_ = false;
    std::chrono::steady_clock::time_point ping_sent_;
    TokenBucket bucket_;
    std::set<std::string> caps_offered_, caps_enabled_;
    bool cap_done_ = false, sasl_done_ = false;
    std::chrono::steady_clock::time_point last_read_;

    // Shared with the threads that call send(): guarded by mutex_.
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool registered_ = false, stopping_ = false, started_ = false;
    uint64_t ready_session_ = 0;
    std::string nick_, mask_;
    std::vector<std::string> channels_;          // configured, and joined on demand
    std::set<std::string> joined_;               // irc_lower names
    std::map<std::string, std::string> refused_; // irc_lower name → why
};

} // namespace relais::irc
