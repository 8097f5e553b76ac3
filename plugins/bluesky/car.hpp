// car.hpp — the binary pieces of the AT Protocol firehose: unsigned varints, CIDs and CAR v1 archives.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bluesky {

// Reads an unsigned LEB128 varint (at most 9 bytes) at `pos` and advances it. nullopt when truncated or too long.
std::optional<uint64_t> read_varint(std::string_view data, size_t &pos);

struct Cid {
    uint64_t version = 0;
    uint64_t codec = 0;     // 0x71 dag-cbor, 0x55 raw
    uint64_t hash_code = 0; // 0x12 sha2-256
    std::string digest;
    std::string bytes;      // the whole binary CID, as links and CAR sections carry it
};

// Parses the CID at the start of `data` (CIDv1, or a 34-byte CIDv0 sha2-256 multihash); `pos` is advanced past it.
std::optional<Cid> read_cid(std::string_view data, size_t &pos, std::string &error);

// The base32 (lower case, multibase prefix "b") text form of a binary CID, as at:// records quote it.
std::string cid_to_string(std::string_view cid_bytes);

struct Car {
    std::map<std::string, std::string> blocks; // binary CID → block bytes
};

// Parses a CAR v1 archive: a varint-length DAG-CBOR header {version: 1, roots}, then varint-length sections of
// CID + block. nullopt with `error` for anything malformed or truncated; never throws for bad input.
std::optional<Car> read_car(std::string_view data, std::string &error);

} // namespace bluesky
