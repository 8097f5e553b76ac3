// `relais deadletter list|show|replay|drop` and `relais held list|show|approve|drop`: through the running daemon's
// admin API when it answers, else on the outbox file directly (what is replayed or approved then is delivered at
// the next start).
#include "admin/json_views.hpp"
#include "cli/commands.hpp"
#include "cli/logging.hpp"
#include "config/config.hpp"
#include "deliver/outbox_store.hpp"

#include <relais/net/http.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace relais {

namespace {
namespace json = boost::json;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// How each shelf is named on the command line and in the admin API.
struct ShelfWords {
    const char *command; // deadletter
    const char *one;     // dead letter
    const char *verb;    // replay
    const char *done;    // replayed
    const char *path;    // /api/v1/deadletters
    const char *key;     // dead_letters
};
const ShelfWords &words_of(Shelf shelf) {
    static const ShelfWords dead{"deadletter", "dead letter", "replay", "replayed", "/api/v1/deadletters", "dead_letters"};
    static const ShelfWords held{"held", "held delivery", "approve", "approved", "/api/v1/held", "held"};
    return shelf == Shelf::dead ? dead : held;
}

void print_row(const json::object &d) {
    std::printf("%-6lld %-14s %-22s %-3lld  %s\n", static_cast<long long>(d.at("id").to_number<int64_t>()),
                json::value_to<std::string>(d.at("destination")).c_str(),
                json::value_to<std::string>(d.at("message_id")).c_str(),
                static_cast<long long>(d.at("attempts").to_number<int64_t>()),
                json::value_to<std::string>(d.at("error")).c_str());
}

int print(const json::value &v, const std::string &action, bool as_json, const ShelfWords &w) {
    if (as_json) {
        std::printf("%s\n", json::serialize(v).c_str());
        return 0;
    }
    const auto &o = v.as_object();
    if (action == "list") {
        std::printf("%-6s %-14s %-22s %-3s  %s\n", "ID", "DESTINATION", "MESSAGE", "TRY",
                    w.key == std::string("held") ? "WHY" : "ERROR");
        for (const auto &d : o.at(w.key).as_array()) print_row(d.as_object());
        std::printf("%lld %s(s)\n", static_cast<long long>(o.at("count").to_number<int64_t>()), w.one);
    } else {
        std::printf("%s\n", json::serialize(v).c_str());
    }
    return 0;
}
} // namespace

int cmd_parked(const CommonOptions &o, Shelf shelf, const std::string &action, const std::string &id_text, bool all,
               bool as_json) {
    const ShelfWords &w = words_of(shelf);
    setup_logging("warn", "text");
    Diagnostics diags(o.config_file.empty() ? "<embedded default>" : o.config_file);
    Config config = o.config_file.empty() ? parse_config(embedded_default_config(), "<embedded default>", diags)
                                          : load_config_file(o.config_file, diags);
    if (!diags.empty()) {
        for (const auto &d : diags.items()) std::fprintf(stderr, "%s\n", d.str().c_str());
        return 2;
    }
    int64_t id = 0;
    if (action != "list" && !all) {
        try {
            id = std::stoll(id_text);
        } catch (...) {
            std::fprintf(stderr, "%s %s: give the %s's id (see `relais %s list`)%s\n", w.command, action.c_str(),
                         w.one, w.command, action == "replay" ? " or --all" : "");
            return 2;
        }
    }

    // A running daemon owns the outbox: ask it.
    if (config.host.admin_enabled) {
        std::string base = "http://" + config.host.admin_host + ":" + std::to_string(config.host.admin_port);
        net::ClientRequest probe;
        probe.url = base + "/healthz";
        probe.timeout = std::chrono::milliseconds(1500);
        if (net::http_request(probe).status != 0) {
            net::ClientRequest req;
            req.url = base + w.path;
            if (action == "show") req.url += "/" + std::to_string(id);
            else if (action == w.verb) {
                req.method = "POST";
                req.url += all ? "/" + action : "/" + std::to_string(id) + "/" + action;
            } else if (action == "drop") {
                req.method = "DELETE";
                req.url += "/" + std::to_string(id);
            }
            net::ClientResponse res = net::http_request(req);
            boost::system::error_code ec;
            json::value v = json::parse(res.body, ec);
            if (!res.ok()) {
                std::fprintf(stderr, "%s\n", !ec && v.is_object() && v.as_object().contains("error")
                                                 ? json::value_to<std::string>(v.at("error")).c_str()
                                                 : (res.error.empty() ? res.body : res.error).c_str());
                return 1;
            }
            return print(v, action, as_json, w);
        }
    }

    auto path = std::filesystem::path(config.host.data_dir) / "outbox.db";
    if (!std::filesystem::exists(path)) {
        std::fprintf(stderr, "no outbox at %s: the daemon has not run with this configuration yet\n", path.c_str());
        return action == "list" ? 0 : 1;
    }
    OutboxStore store(path.string());
    if (action == "list") {
        json::array items;
        for (const auto &d : store.dead_letters(1000, shelf)) items.push_back(dead_letter_json(d, false));
        return print(json::object{{"count", items.size()}, {w.key, items}}, action, as_json, w);
    }
    if (action == "show") {
        auto d = store.dead_letter(id, shelf);
        if (!d) {
            std::fprintf(stderr, "no %s %lld\n", w.one, static_cast<long long>(id));
            return 1;
        }
        return print(dead_letter_json(*d, true), action, as_json, w);
    }
    store.begin();
    size_t n = 0;
    if (action == w.verb) {
        if (all)
            for (const auto &d : store.dead_letters(1000, shelf)) n += store.revive(d.seq, now_ms(), shelf) ? 1 : 0;
        else n = store.revive(id, now_ms(), shelf) ? 1 : 0;
    } else {
        n = store.drop_dead(id, shelf) ? 1 : 0;
    }
    store.commit();
    if (n == 0) {
        std::fprintf(stderr, "no %s %lld\n", w.one, static_cast<long long>(id));
        return 1;
    }
    std::printf("%s %zu %s(s)%s\n", action == w.verb ? w.done : "dropped", n, w.one,
                action == w.verb ? " (delivered when the daemon starts)" : "");
    return 0;
}

} // namespace relais
