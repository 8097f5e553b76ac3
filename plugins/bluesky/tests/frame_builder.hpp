// frame_builder.hpp — writes subscribeRepos frames and CAR archives with libcbor, for the decoder tests.
#pragma once

#include <cbor.h>

#include <string>
#include <utility>
#include <vector>

namespace bluesky::testing {

// Owns a libcbor item; the build helpers below hand ownership to their parent.
inline std::string serialize(cbor_item_t *item) {
    unsigned char *buffer = nullptr;
    size_t capacity = 0;
    size_t n = cbor_serialize_alloc(item, &buffer, &capacity);
    std::string out(reinterpret_cast<char *>(buffer), n);
    free(buffer);
    cbor_decref(&item);
    return out;
}

inline cbor_item_t *text(const std::string &s) { return cbor_build_stringn(s.data(), s.size()); }
inline cbor_item_t *bytes(const std::string &s) {
    return cbor_build_bytestring(reinterpret_cast<cbor_data>(s.data()), s.size());
}
inline cbor_item_t *unum(uint64_t n) { return cbor_build_uint64(n); }
inline cbor_item_t *link(const std::string &cid) {
    cbor_item_t *inner = bytes(std::string(1, '\0') + cid);
    cbor_item_t *tag = cbor_build_tag(42, inner);
    cbor_decref(&inner);
    return tag;
}

inline cbor_item_t *map(std::vector<std::pair<std::string, cbor_item_t *>> entries) {
    cbor_item_t *m = cbor_new_definite_map(entries.size());
    for (auto &[k, v] : entries) {
        cbor_item_t *key = text(k);
        cbor_map_add(m, cbor_pair{cbor_move(key), cbor_move(v)});
    }
    return m;
}

inline cbor_item_t *array(std::vector<cbor_item_t *> items) {
    cbor_item_t *a = cbor_new_definite_array(items.size());
    for (cbor_item_t *item : items) cbor_array_push(a, cbor_move(item));
    return a;
}

inline std::string varint(uint64_t n) {
    std::string out;
    do {
        unsigned char byte = n & 0x7f;
        n >>= 7;
        if (n) byte |= 0x80;
        out += static_cast<char>(byte);
    } while (n);
    return out;
}

// A CIDv1 dag-cbor sha2-256 whose digest is 32 copies of `fill`.
inline std::string fake_cid(char fill) { return std::string("\x01\x71\x12\x20", 4) + std::string(32, fill); }

inline std::string car(const std::vector<std::pair<std::string, std::string>> &blocks) {
    std::string header = serialize(map({{"version", unum(1)}, {"roots", array({})}}));
    std::string out = varint(header.size()) + header;
    for (const auto &[cid, block] : blocks) out += varint(cid.size() + block.size()) + cid + block;
    return out;
}

inline std::string post_record(const std::string &post_text, const std::string &mention_did = "") {
    std::vector<std::pair<std::string, cbor_item_t *>> entries{{"$type", text("app.bsky.feed.post")},
                                                              {"text", text(post_text)},
                                                              {"createdAt", text("2026-11-26T10:00:00.000Z")}};
    if (!mention_did.empty())
        entries.emplace_back(
            "facets", array({map({{"index", map({{"byteStart", unum(0)}, {"byteEnd", unum(5)}})},
                                  {"features", array({map({{"$type", text("app.bsky.richtext.facet#mention")},
                                                           {"did", text(mention_did)}})})}})}));
    return serialize(map(std::move(entries)));
}

// A #commit frame creating one post with the given record block.
inline std::string commit_frame(int64_t seq, const std::string &repo, const std::string &rkey,
                                const std::string &record_block) {
    std::string cid = fake_cid('p');
    std::string header = serialize(map({{"op", unum(1)}, {"t", text("#commit")}}));
    std::string body = serialize(
        map({{"seq", unum(seq)},
             {"repo", text(repo)},
             {"rev", text("3kabc")},
             {"ops", array({map({{"action", text("create")},
                                 {"path", text("app.bsky.feed.post/" + rkey)},
                                 {"cid", link(cid)}})})},
             {"blocks", bytes(car({{fake_cid('c'), serialize(map({{"did", text(repo)}}))}, {cid, record_block}}))},
             {"time", text("2026-11-26T10:00:00.000Z")}}));
    return header + body;
}

} // namespace bluesky::testing
