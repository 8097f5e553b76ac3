// The routing stage: a message in, the list of deliveries it gets out. Pure: no I/O, no threads, so
// `relais explain` runs exactly the code the daemon runs.
#pragma once

#include "route/rules.hpp"

#include <relais/message.hpp>

#include <memory>
#include <string>
#include <vector>

namespace relais {

class MatchIndex;

struct PlannedDelivery {
    std::string route;
    std::string instance;
    std::string channel;
    std::string rendered;
    Level level = Level::public_; // the level the message travels at (after an explicit as_level)
    bool archive = false;
    std::string held;             // non-empty: parked until someone approves it, and why
};

// A delivery the host refused whatever the rules said.
struct Refusal {
    std::string route;
    std::string instance;
    std::string reason; // "confidentiality" or "loop"
    std::string detail;
};

struct Plan {
    std::vector<PlannedDelivery> deliveries;
    std::vector<Refusal> refusals;
    std::vector<std::string> matched_routes;
    bool dropped = false;
    std::string dropped_by;
    std::vector<std::string> explanation; // filled only when asked for
};

class Router {
public:
    explicit Router(RouteTable table);

    // Evaluates the routes in order: those whose gate stays shut for this message are skipped, as they cannot
    // match (see match_index.hpp). `message` may gain tags (the tag action). With explain, every route is evaluated
    // and the plan says why each matched or not. Safe to call from several threads at once.
    Plan route(Message &message, bool explain = false) const;

    const RouteTable &table() const { return table_; }

private:
    RouteTable table_;
    std::shared_ptr<const MatchIndex> index_; // built from table_: see match_index.hpp
};

} // namespace relais
