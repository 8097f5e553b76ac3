// JSON views of the host's state, shared by the admin API and the CLI's --json output.
#pragma once

#include "core/assembly.hpp"
#include "deliver/outbox_store.hpp"
#include "plugins/loader.hpp"

#include <boost/json/object.hpp>

namespace relais {

boost::json::object plugins_json(const PluginCatalog &catalog, const Assembly *assembly);
boost::json::object routes_json(const RouteTable &routes);
boost::json::object dead_letter_json(const StoredDelivery &d, bool with_message);
boost::json::object search_json(const std::string &archive, const SearchRequest &request,
                                const std::vector<SearchHit> &hits);

} // namespace relais
