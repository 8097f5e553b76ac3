// A plain IRC client on 127.0.0.1 (POSIX sockets, a reader thread): registers, joins one channel, answers PINGs,
// and reports PRIVMSGs and JOINs seen in that channel.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

namespace relais::bench {

class IrcClient {
public:
    using OnPrivmsg = std::function<void(std::string_view from_nick, std::string_view text, int64_t at_ns)>;
    // Returns once registered and in the channel; throws when that takes more than 10 s.
    IrcClient(uint16_t port, std::string nick, std::string channel, OnPrivmsg on_privmsg = {});
    ~IrcClient();

    // Sends one raw line (without CRLF). Blocking; false when the connection is gone.
    bool send_line(std::string_view line);
    bool say(std::string_view text) { return send_line("PRIVMSG " + channel_ + " :" + std::string(text)); }
    // True once `nick` was seen joining the channel (or in its NAMES list).
    bool saw_join(const std::string &nick);

private:
    void read_loop();
    void handle(std::string_view line);

    std::string nick_, channel_;
    OnPrivmsg on_privmsg_;
    int fd_ = -1;
    std::mutex send_mutex_, seen_mutex_;
    std::set<std::string> joined_;
    std::atomic<bool> in_channel_{false};
    std::thread reader_;
};

} // namespace relais::bench
