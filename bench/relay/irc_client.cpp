#include "irc_client.hpp"

#include "measure.hpp"
#include "tracker.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace relais::bench {

IrcClient::IrcClient(uint16_t port, std::string nick, std::string channel, OnPrivmsg on_privmsg)
    : nick_(std::move(nick)), channel_(std::move(channel)), on_privmsg_(std::move(on_privmsg)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        ::close(fd_);
        throw std::runtime_error("cannot connect to the IRC server on 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval send_limit{10, 0}; // a server that stops reading fails the run instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
    reader_ = std::thread([this] { read_loop(); });
    send_line("NICK " + nick_);
    send_line("USER " + nick_ + " 0 * :relay-bench");
    send_line("JOIN " + channel_);
    double deadline = wall_seconds() + 10;
    while (!in_channel_.load() && wall_seconds() < deadline) ::usleep(5'000);
    if (!in_channel_.load()) {
        ::shutdown(fd_, SHUT_RDWR);
        reader_.join();
        ::close(fd_);
        throw std::runtime_error(nick_ + " could not join " + channel_ + " within 10 s: is the IRC server up?");
    }
}

IrcClient::~IrcClient() {
    send_line("QUIT :done");
    ::shutdown(fd_, SHUT_RDWR);
    reader_.join();
    ::close(fd_);
}

bool IrcClient::send_line(std::string_view line) {
    std::string out(line);
    out += "\r\n";
    std::lock_guard lock(send_mutex_);
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

bool IrcClient::saw_join(const std::string &nick) {
    std::lock_guard lock(seen_mutex_);
    return joined_.count(nick) > 0;
}

void IrcClient::read_loop() {
    std::string pending;
    char buf[65536];
    for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return;
        pending.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
            size_t stop = end > start && pending[end - 1] == '\r' ? end - 1 : end;
            handle(std::string_view(pending).substr(start, stop - start));
        }
        pending.erase(0, start);
    }
}

void IrcClient::handle(std::string_view line) {
    // [:prefix] COMMAND params [:trailing]
    std::string_view prefix;
    if (!line.empty() && line.front() == ':') {
        auto sp = line.find(' ');
        if (sp == std::string_view::npos) return;
        prefix = line.substr(1, sp - 1);
        line.remove_prefix(sp + 1);
    }
    auto sp = line.find(' ');
    std::string_view command = line.substr(0, sp), params = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    std::string_view from = prefix.substr(0, prefix.find('!'));
    if (command == "PING") {
        send_line("PONG " + std::string(params));
    } else if (command == "PRIVMSG") {
        auto colon = params.find(" :");
        if (colon != std::string_view::npos && on_privmsg_) on_privmsg_(from, params.substr(colon + 2), now_ns());
    } else if (command == "JOIN") {
        std::lock_guard lock(seen_mutex_);
        joined_.insert(std::string(from));
        if (from == nick_) in_channel_.store(true);
    } else if (command == "353") { // NAMES: who was already in the channel
        auto colon = params.find(" :");
        if (colon == std::string_view::npos) return;
        std::istringstream names(std::string(params.substr(colon + 2)));
        std::lock_guard lock(seen_mutex_);
        for (std::string name; names >> name;) joined_.insert(name.substr(name.find_first_not_of("@+%&~")));
    }
}

} // namespace relais::bench
