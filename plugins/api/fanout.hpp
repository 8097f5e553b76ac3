// fanout.hpp — where delivered messages go: the buffer GET /api/messages empties, and every connected
// /api/stream and /api/websocket client. One lock keeps the order the same everywhere.
#pragma once

#include <relais/net/http.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace relais::api {

class Fanout {
public:
    explicit Fanout(size_t capacity) : capacity_(capacity) {}

    // Sends `greeting` to the new client, then every message published after it.
    void join(const std::shared_ptr<net::Stream> &client, const std::string &greeting);
    void leave(const std::shared_ptr<net::Stream> &client);

    struct Published {
        size_t clients = 0;    // how many clients it was sent to
        bool dropped = false;  // the buffer was full: its oldest message was dropped
        bool first_drop = false; // the first drop since the buffer was last emptied
    };
    // Buffers one message (JSON text) and sends it, newline-terminated, to every open client.
    Published publish(const std::string &json);

    // The buffered messages, oldest first, as a JSON array; empties the buffer.
    std::string take_all();

    size_t capacity() const { return capacity_; }
    size_t clients() const;
    size_t buffered() const;
    void close_all();

private:
    size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<std::string> buffer_;
    std::vector<std::shared_ptr<net::Stream>> clients_;
    bool dropping_ = false;
};

} // namespace relais::api
