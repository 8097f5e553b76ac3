#include "fanout.hpp"

#include <algorithm>

namespace relais::api {

void Fanout::join(const std::shared_ptr<net::Stream> &client, const std::string &greeting) {
    std::lock_guard lock(mutex_);
    client->send(greeting + "\n");
    clients_.push_back(client);
}

void Fanout::leave(const std::shared_ptr<net::Stream> &client) {
    std::lock_guard lock(mutex_);
    clients_.erase(std::remove(clients_.begin(), clients_.end(), client), clients_.end());
}

Fanout::Published Fanout::publish(const std::string &json) {
    Published out;
    std::lock_guard lock(mutex_);
    if (capacity_ > 0) {
        if (buffer_.size() >= capacity_) {
            buffer_.pop_front();
            out.dropped = true;
            out.first_drop = !dropping_;
            dropping_ = true;
        }
        buffer_.push_back(json);
    }
    std::erase_if(clients_, [](const auto &c) { return !c->open(); });
    std::string line = json + "\n"; // Go's json.Encoder ends every message with a newline
    for (const auto &c : clients_) c->send(line);
    out.clients = clients_.size();
    return out;
}

std::string Fanout::take_all() {
    std::deque<std::string> taken;
    {
        std::lock_guard lock(mutex_);
        taken.swap(buffer_);
        dropping_ = false;
    }
    std::string out = "[";
    for (size_t i = 0; i < taken.size(); ++i) {
        if (i) out += ',';
        out += taken[i];
    }
    out += ']';
    return out;
}

size_t Fanout::clients() const {
    std::lock_guard lock(mutex_);
    return std::count_if(clients_.begin(), clients_.end(), [](const auto &c) { return c->open(); });
}

size_t Fanout::buffered() const {
    std::lock_guard lock(mutex_);
    return buffer_.size();
}

void Fanout::close_all() {
    std::vector<std::shared_ptr<net::Stream>> all;
    {
        std::lock_guard lock(mutex_);
        all.swap(clients_);
    }
    for (const auto &c : all) c->close();
}

} // namespace relais::api
