// The routing rules written the plain way: every condition of every route tested one after the other on the
// lowered text, as the documentation states them. `bench-rules --verify` checks that the engine's plans are the
// same as these on every message of the corpus, so an optimisation cannot change what a message matches.
#pragma once

#include "route/router.hpp"

#include <string>

namespace relais::bench {

Plan reference_route(const RouteTable &table, Message &m);

// Empty when the two plans are the same; else what differs.
std::string plan_difference(const Plan &engine, const Plan &reference);

} // namespace relais::bench
