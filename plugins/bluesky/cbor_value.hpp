// cbor_value.hpp — one DAG-CBOR item decoded (with libcbor) into a plain value tree the rest of the plugin reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bluesky {

struct Value {
    enum class Type { null, boolean, integer, floating, bytes, text, array, map, link };
    Type type = Type::null;
    bool boolean = false;
    int64_t integer = 0;
    double floating = 0;
    std::string data; // bytes, text, or a link's CID bytes (tag 42 without its leading 0x00)
    std::vector<Value> items;
    std::vector<std::pair<std::string, Value>> entries; // map entries; DAG-CBOR keys are text

    const Value *get(std::string_view key) const;
    // The text at `key`, or empty when missing or not text.
    std::string_view text(std::string_view key) const;
    std::optional<int64_t> number(std::string_view key) const;
};

struct Decoded {
    Value value;
    size_t consumed = 0; // bytes of the input the item took
};

// Decodes the first CBOR item of `data`. Returns nullopt and sets `error` for anything malformed, truncated,
// nested deeper than 64 levels or otherwise not DAG-CBOR; never throws for bad input.
std::optional<Decoded> decode_cbor(std::string_view data, std::string &error);

} // namespace bluesky
