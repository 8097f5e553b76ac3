#include "admin/admin_server.hpp"

#include "admin/json_views.hpp"
#include "core/daemon.hpp"

#include <boost/json.hpp>

namespace relais {

namespace json = boost::json;

AdminServer::AdminServer(const std::string &host, uint16_t port, Daemon &daemon) : daemon_(daemon) {
    net::HttpServer::Options options;
    options.host = host;
    options.port = port;
    options.max_body_bytes = 64 * 1024;
    server_ = std::make_unique<net::HttpServer>(options, [this](const net::Request &r) { return handle(r); });
}

void AdminServer::start() { server_->start(); }
void AdminServer::stop() { server_->stop(); }

net::Response AdminServer::handle(const net::Request &r) {
    if (r.method != "GET") return net::Response::error(405, "the admin API only answers GET for now");
    if (r.path == "/healthz") {
        json::object instances;
        bool ok = true;
        for (const auto &i : daemon_.assembly().instances) {
            instances[i->id()] = i->state();
            ok = ok && i->state() == "running";
        }
        return net::Response::json(ok ? 200 : 503,
                                   json::serialize(json::object{{"status", ok ? "ok" : "degraded"},
                                                                {"instances", std::move(instances)},
                                                                {"queued", daemon_.pipeline().queued()}}));
    }
    if (r.path == "/metrics") {
        net::Response res = net::Response::text(200, daemon_.metrics().prometheus());
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return res;
    }
    if (r.path == "/api/v1/plugins")
        return net::Response::json(200, json::serialize(plugins_json(daemon_.catalog(), &daemon_.assembly())));
    if (r.path == "/api/v1/routes") return net::Response::json(200, json::serialize(routes_json(daemon_.assembly().routes)));
    if (r.path == "/api/v1/archive/search") {
        SearchRequest req;
        req.query = r.param("q");
        if (req.query.empty()) return net::Response::error(400, "missing q: /api/v1/archive/search?q=words");
        if (!r.param("limit").empty()) {
            try {
                req.limit = static_cast<uint32_t>(std::stoul(r.param("limit")));
            } catch (...) {
                return net::Response::error(400, "limit must be a whole number");
            }
        }
        std::string order = r.param("order");
        if (order == "ranked") req.order = RELAIS_SEARCH_RANKED;
        else if (!order.empty() && order != "newest") return net::Response::error(400, "order is newest or ranked");
        std::string error;
        PluginInstance *archive = daemon_.assembly().archive(r.param("archive"), error);
        if (!archive) return net::Response::error(404, error);
        std::vector<SearchHit> hits;
        if (!archive->search(req, hits, error)) return net::Response::error(400, error);
        return net::Response::json(200, json::serialize(search_json(archive->id(), req, hits)));
    }
    return net::Response::error(404, "no such endpoint: " + r.path +
                                         " (try /healthz, /metrics, /api/v1/plugins, /api/v1/routes, "
                                         "/api/v1/archive/search?q=)");
}

} // namespace relais
