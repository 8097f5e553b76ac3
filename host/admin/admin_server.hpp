// The admin HTTP server (loopback by default): /healthz, /metrics, and the JSON API under /api/v1.
#pragma once

#include "deliver/outbox_store.hpp"

#include <relais/net/http.hpp>

#include <memory>
#include <string>

namespace relais {

class Daemon;

class AdminServer {
public:
    AdminServer(const std::string &host, uint16_t port, Daemon &daemon);
    void start();
    void stop();
    uint16_t port() const { return server_->port(); }

private:
    net::Response handle(const net::Request &request);
    net::Response parked(const net::Request &request, Shelf shelf);

    Daemon &daemon_;
    std::unique_ptr<net::HttpServer> server_;
};

} // namespace relais
