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
    if (r.path.rfind("/api/v1/deadletters", 0) == 0) return parked(r, Shelf::dead);
    if (r.path.rfind("/api/v1/held", 0) == 0) return parked(r, Shelf::held);
    if (r.method != "GET") return net::Response::error(405, r.method + " is not allowed on " + r.path);
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
                                         "/api/v1/archive/search?q=, /api/v1/deadletters, /api/v1/held)");
}

namespace {
// The two shelves of parked deliveries, as the admin API names them.
struct ShelfNames {
    std::string prefix;   // /api/v1/deadletters
    std::string list_key; // dead_letters
    std::string one;      // dead letter
    std::string verb;     // replay
    std::string done;     // replayed
};
const ShelfNames &names_of(Shelf shelf) {
    static const ShelfNames dead{"/api/v1/deadletters", "dead_letters", "dead letter", "replay", "replayed"};
    static const ShelfNames held{"/api/v1/held", "held", "held delivery", "approve", "approved"};
    return shelf == Shelf::dead ? dead : held;
}
} // namespace

// GET /api/v1/deadletters, GET /api/v1/deadletters/ID, POST /api/v1/deadletters/ID/replay,
// POST /api/v1/deadletters/replay (all), DELETE /api/v1/deadletters/ID; the same under /api/v1/held with approve
// (one at a time: approving publishes).
net::Response AdminServer::parked(const net::Request &r, Shelf shelf) {
    Outbox &outbox = daemon_.outbox();
    const ShelfNames &n = names_of(shelf);
    std::string rest = r.path.substr(n.prefix.size());
    if (rest.empty() || rest == "/") {
        if (r.method != "GET") return net::Response::error(405, "GET lists the " + n.one + "s");
        json::array items;
        for (const auto &d : outbox.dead_letters(shelf)) items.push_back(dead_letter_json(d, false));
        return net::Response::json(200, json::serialize(json::object{{"count", items.size()}, {n.list_key, items}}));
    }
    if (rest == "/replay" && shelf == Shelf::dead) {
        if (r.method != "POST") return net::Response::error(405, "POST replays every dead letter");
        size_t count = 0;
        for (const auto &d : outbox.dead_letters()) count += outbox.replay(d.seq) ? 1 : 0;
        return net::Response::json(200, json::serialize(json::object{{"replayed", count}}));
    }
    std::string id_text = rest.substr(1);
    bool act = false;
    if (auto slash = id_text.find('/'); slash != std::string::npos) {
        if (id_text.substr(slash + 1) != n.verb) return net::Response::error(404, "no such endpoint: " + r.path);
        act = true;
        id_text = id_text.substr(0, slash);
    }
    int64_t id = 0;
    try {
        id = std::stoll(id_text);
    } catch (...) {
        return net::Response::error(400, "a " + n.one + "'s id is a number, not '" + id_text + "'");
    }
    if (act) {
        if (r.method != "POST") return net::Response::error(405, "POST to " + n.verb + " a " + n.one);
        return outbox.replay(id, shelf) ? net::Response::json(200, json::serialize(json::object{{n.done, id}}))
                                        : net::Response::error(404, "no " + n.one + " " + id_text);
    }
    if (r.method == "DELETE")
        return outbox.drop(id, shelf) ? net::Response::json(200, json::serialize(json::object{{"dropped", id}}))
                                      : net::Response::error(404, "no " + n.one + " " + id_text);
    if (r.method != "GET") return net::Response::error(405, r.method + " is not allowed on " + r.path);
    auto d = outbox.dead_letter(id, shelf);
    if (!d) return net::Response::error(404, "no " + n.one + " " + id_text);
    return net::Response::json(200, json::serialize(dead_letter_json(*d, true)));
}

} // namespace relais
