#include "admin/json_views.hpp"

#include <relais/message_json.hpp>

#include <boost/json.hpp>

namespace relais {

namespace json = boost::json;

json::object plugins_json(const PluginCatalog &catalog, const Assembly *assembly) {
    json::array plugins, refused, instances;
    for (const auto &[name, p] : catalog.plugins())
        plugins.push_back(json::object{{"name", name},
                                       {"version", p.version},
                                       {"abi", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)},
                                       {"capabilities", capability_names(p.info->capabilities)},
                                       {"description", p.description},
                                       {"path", p.path}});
    for (const auto &r : catalog.refused()) refused.push_back(json::object{{"path", r.path}, {"reason", r.reason}});
    if (assembly)
        for (const auto &i : assembly->instances)
            instances.push_back(json::object{{"id", i->id()},
                                             {"plugin", i->plugin().name},
                                             {"level", level_name(i->level())},
                                             {"state", i->state()}});
    return json::object{{"abi", std::to_string(RELAIS_ABI_MAJOR) + "." + std::to_string(RELAIS_ABI_MINOR)},
                        {"plugins", std::move(plugins)},
                        {"refused", std::move(refused)},
                        {"instances", std::move(instances)}};
}

json::object routes_json(const RouteTable &table) {
    json::array routes;
    for (const auto &r : table.routes) {
        json::array from, actions;
        for (const auto &e : r.from) from.push_back(json::string(e.str()));
        for (const auto &a : r.actions) {
            static const char *names[] = {"relay", "archive", "drop", "tag", "stop"};
            json::object o{{"action", a.hold ? "hold" : names[static_cast<int>(a.type)]}};
            json::array to;
            for (const auto &e : a.to) to.push_back(json::string(e.str()));
            if (!to.empty()) o["to"] = std::move(to);
            if (a.tmpl) o["template"] = a.tmpl->source();
            if (a.as_level) o["as_level"] = level_name(*a.as_level);
            if (!a.speakers.empty()) {
                json::array speakers;
                for (const auto &p : a.speakers) speakers.push_back(json::string(p));
                o["speakers"] = std::move(speakers);
            }
            if (!a.tags.empty()) {
                json::array tags;
                for (const auto &t : a.tags) tags.push_back(json::string(t));
                o["tags"] = std::move(tags);
            }
            actions.push_back(std::move(o));
        }
        routes.push_back(json::object{{"name", r.name}, {"line", r.line}, {"from", std::move(from)},
                                      {"actions", std::move(actions)}});
    }
    return json::object{{"routes", std::move(routes)}};
}

json::object dead_letter_json(const StoredDelivery &d, bool with_message) {
    json::object o{{"id", d.seq},
                   {"destination", d.destination},
                   {"channel", d.job.channel},
                   {"route", d.job.route},
                   {"message_id", d.job.message.id},
                   {"source", d.job.message.source},
                   {"rendered", d.job.rendered},
                   {"attempts", d.job.attempts},
                   {"error", d.last_error},
                   {"enqueued_ms", d.enqueued_ms},
                   {"failed_ms", d.failed_ms}};
    if (with_message) o["message"] = message_to_json_value(d.job.message);
    return o;
}

json::object search_json(const std::string &archive, const SearchRequest &request, const std::vector<SearchHit> &hits) {
    json::array results;
    for (const auto &h : hits) {
        json::object o = message_to_json_value(h.message);
        o["snippet"] = h.snippet;
        o["score"] = h.score;
        results.push_back(std::move(o));
    }
    return json::object{{"archive", archive},
                        {"query", request.query},
                        {"order", request.order == RELAIS_SEARCH_RANKED ? "ranked" : "newest"},
                        {"count", hits.size()},
                        {"results", std::move(results)}};
}

} // namespace relais
