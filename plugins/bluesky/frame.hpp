// frame.hpp — one com.atproto.sync.subscribeRepos frame (a DAG-CBOR header then a body) and the posts it creates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bluesky {

struct Post {
    std::string uri;        // at://DID/app.bsky.feed.post/RKEY
    std::string cid;        // text form
    std::string author_did;
    std::string rkey;
    std::string text;
    std::string created_at; // as written by the client (ISO 8601)
    std::vector<std::string> mention_dids;
    std::vector<std::string> links;
    std::vector<std::string> tags;
    std::string reply_parent_uri;
    std::string reply_root_uri;
    std::vector<std::string> langs;
};

struct Event {
    enum class Kind { commit, identity, info, error, other };
    Kind kind = Kind::other;
    std::string type;     // the header's t ("#commit"…), or the error name for op -1
    int64_t seq = 0;      // 0 when the event has none
    std::string repo;     // commit: the author's DID; identity: the DID
    std::string handle;   // identity: the new handle, when given
    std::string message;  // info and error: what the server said
    std::vector<Post> posts; // commit: the app.bsky.feed.post records it creates
    std::vector<std::string> skipped; // commit: why a created post could not be read (missing block…)
};

// Decodes a frame. nullopt with `error` for a malformed frame; never throws for bad input.
std::optional<Event> parse_frame(std::string_view frame, std::string &error);

} // namespace bluesky
