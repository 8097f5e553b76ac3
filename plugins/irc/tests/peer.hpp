// peer.hpp — a scripted IRC server for the plugin's tests: a real TCP listener on 127.0.0.1 (port chosen by the
// kernel) that the test drives line by line, to send what real servers rarely send (malformed and over-long lines,
// refusals) and to see exactly what the connector writes. Blocking POSIX sockets, every wait bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace relais::irc::testing {

class Peer {
public:
    Peer() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(listener_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(listener_, 4) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        socklen_t len = sizeof addr;
        ::getsockname(listener_, reinterpret_cast<sockaddr *>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~Peer() {
        drop();
        ::close(listener_);
    }
    int port() const { return port_; }

    // Waits for the connector to connect.
    bool accept(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
        drop();
        client_ = ::accept(listener_, nullptr, nullptr);
        buffer_.clear();
        return client_ >= 0;
    }
    void drop() {
        if (client_ >= 0) ::close(client_);
        client_ = -1;
    }
    void send(const std::string &line) { send_raw(line + "\r\n"); }
    void send_raw(const std::string &bytes) {
        size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::send(client_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("the connector closed the connection");
            done += static_cast<size_t>(n);
        }
    }
    // The next line the connector wrote, without CR LF; nullopt after the timeout or when it closed. PINGs are
    // answered on the way, like a server does, and not returned.
    std::optional<std::string> line(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            size_t nl = buffer_.find("\r\n");
            if (nl != std::string::npos) {
                std::string out = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 2);
                if (out.rfind("PING ", 0) == 0) {
                    ++pings_;
                    send(":srv PONG srv " + out.substr(5));
                    continue;
                }
                return out;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{client_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
            char chunk[4096];
            ssize_t n = ::recv(client_, chunk, sizeof chunk, 0);
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }
    // Reads lines until one starts with `prefix`; returns it, or nullopt.
    std::optional<std::string> expect(const std::string &prefix,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto l = line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
            if (!l) return std::nullopt;
            if (l->rfind(prefix, 0) == 0) return l;
        }
        return std::nullopt;
    }

    // Reads (and answers PINGs) until `done` says so or the timeout passes.
    template <class F>
    bool serve_until(F done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            line(std::chrono::milliseconds(10));
        }
        return true;
    }
    int pings() const { return pings_; }

private:
    int pings_ = 0;
    int listener_ = -1, client_ = -1, port_ = 0;
    std::string buffer_;
};

} // namespace relais::irc::testing
