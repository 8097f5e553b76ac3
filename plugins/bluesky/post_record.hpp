// post_record.hpp — the app.bsky.feed.post record for an outgoing text: facets, reply references, record key.
#pragma once

#include "facets.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bluesky {

struct StrongRef {
    std::string uri, cid;
};

struct ReplyRefs {
    StrongRef root, parent;
};

// Resolves a handle (lower case, without "@") to a DID; nullopt leaves that mention as plain text.
using HandleResolver = std::function<std::optional<std::string>(const std::string &handle)>;

// {$type, text, createdAt, facets?, reply?, langs?}. Mentions that do not resolve get no facet.
boost::json::object make_post_record(const std::string &text, const HandleResolver &resolve,
                                     const std::optional<ReplyRefs> &reply, const std::vector<std::string> &langs,
                                     const std::string &created_at);

// A record key in the TID format (13 characters, base32-sortable) for this time in microseconds and clock id.
std::string make_tid(uint64_t unix_micros, uint32_t clock_id);

// "2024-05-01T12:00:00.000Z" for a Unix time in milliseconds.
std::string iso_time(int64_t unix_ms);
// The Unix time in milliseconds of an ISO 8601 / RFC 3339 time ("…Z" or "…+02:00"); nullopt when unreadable.
std::optional<int64_t> parse_iso_time(const std::string &text);

struct AtUri {
    std::string repo, collection, rkey;
};
// at://REPO/COLLECTION/RKEY; nullopt for anything else.
std::optional<AtUri> parse_at_uri(const std::string &uri);

} // namespace bluesky
