#include "cbor_value.hpp"

#include <cbor.h>

#include <vector>

namespace bluesky {

const Value *Value::get(std::string_view key) const {
    for (const auto &[k, v] : entries)
        if (k == key) return &v;
    return nullptr;
}

std::string_view Value::text(std::string_view key) const {
    const Value *v = get(key);
    return v && v->type == Type::text ? std::string_view(v->data) : std::string_view();
}

std::optional<int64_t> Value::number(std::string_view key) const {
    const Value *v = get(key);
    if (!v || v->type != Type::integer) return std::nullopt;
    return v->integer;
}

namespace {

constexpr int kMaxDepth = 64;

// Bytes or text, definite or chunked.
bool read_string(const cbor_item_t *item, bool bytes, std::string &out) {
    bool definite = bytes ? cbor_bytestring_is_definite(item) : cbor_string_is_definite(item);
    if (definite) {
        const unsigned char *p = bytes ? cbor_bytestring_handle(item) : cbor_string_handle(item);
        size_t n = bytes ? cbor_bytestring_length(item) : cbor_string_length(item);
        if (n) out.assign(reinterpret_cast<const char *>(p), n);
        return true;
    }
    size_t count = bytes ? cbor_bytestring_chunk_count(item) : cbor_string_chunk_count(item);
    cbor_item_t **chunks = bytes ? cbor_bytestring_chunks_handle(item) : cbor_string_chunks_handle(item);
    for (size_t i = 0; i < count; ++i) {
        std::string piece;
        if (!read_string(chunks[i], bytes, piece)) return false;
        out += piece;
    }
    return true;
}

bool convert(const cbor_item_t *item, Value &out, int depth, std::string &error) {
    if (depth > kMaxDepth) {
        error = "nested deeper than 64 levels";
        return false;
    }
    switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT: {
        uint64_t n = cbor_get_int(item);
        if (n > static_cast<uint64_t>(INT64_MAX)) {
            error = "integer out of range";
            return false;
        }
        out.type = Value::Type::integer;
        out.integer = static_cast<int64_t>(n);
        return true;
    }
    case CBOR_TYPE_NEGINT: {
        uint64_t n = cbor_get_int(item);
        if (n > static_cast<uint64_t>(INT64_MAX)) {
            error = "integer out of range";
            return false;
        }
        out.type = Value::Type::integer;
        out.integer = -1 - static_cast<int64_t>(n);
        return true;
    }
    case CBOR_TYPE_BYTESTRING:
        out.type = Value::Type::bytes;
        return read_string(item, true, out.data);
    case CBOR_TYPE_STRING:
        out.type = Value::Type::text;
        return read_string(item, false, out.data);
    case CBOR_TYPE_ARRAY: {
        out.type = Value::Type::array;
        size_t n = cbor_array_size(item);
        cbor_item_t **items = cbor_array_handle(item);
        out.items.resize(n);
        for (size_t i = 0; i < n; ++i)
            if (!convert(items[i], out.items[i], depth + 1, error)) return false;
        return true;
    }
    case CBOR_TYPE_MAP: {
        out.type = Value::Type::map;
        size_t n = cbor_map_size(item);
        struct cbor_pair *pairs = cbor_map_handle(item);
        out.entries.resize(n);
        for (size_t i = 0; i < n; ++i) {
            if (cbor_typeof(pairs[i].key) != CBOR_TYPE_STRING) {
                error = "a map key that is not text";
                return false;
            }
            if (!read_string(pairs[i].key, false, out.entries[i].first)) return false;
            if (!convert(pairs[i].value, out.entries[i].second, depth + 1, error)) return false;
        }
        return true;
    }
    case CBOR_TYPE_TAG: {
        if (cbor_tag_value(item) != 42) {
            error = "tag " + std::to_string(cbor_tag_value(item)) + " (DAG-CBOR allows only 42, a CID)";
            return false;
        }
        cbor_item_t *inner = cbor_tag_item(item); // a new reference
        std::string bytes;
        bool ok = cbor_typeof(inner) == CBOR_TYPE_BYTESTRING && read_string(inner, true, bytes);
        cbor_decref(&inner);
        if (!ok || bytes.empty() || bytes[0] != '\0') {
            error = "a CID link (tag 42) that is not 0x00-prefixed bytes";
            return false;
        }
        out.type = Value::Type::link;
        out.data = bytes.substr(1);
        return true;
    }
    case CBOR_TYPE_FLOAT_CTRL:
        if (cbor_float_ctrl_is_ctrl(item)) {
            uint8_t c = cbor_ctrl_value(item);
            if (c == CBOR_CTRL_NULL || c == CBOR_CTRL_UNDEF) {
                out.type = Value::Type::null;
            } else if (c == CBOR_CTRL_TRUE || c == CBOR_CTRL_FALSE) {
                out.type = Value::Type::boolean;
                out.boolean = c == CBOR_CTRL_TRUE;
            } else {
                error = "simple value " + std::to_string(c);
                return false;
            }
            return true;
        }
        out.type = Value::Type::floating;
        out.floating = cbor_float_get_float(item);
        return true;
    }
    error = "unknown CBOR type";
    return false;
}

// Walks the item's headers before libcbor sees them: every declared length must fit in what is left of the input
// (libcbor allocates an array or map of the declared size up front, so a five-byte header could ask for gigabytes),
// no indefinite lengths (DAG-CBOR has none), at most kMaxDepth levels. Returns the item's size in bytes.
std::optional<size_t> scan_item(std::string_view data, std::string &error) {
    size_t pos = 0;
    std::vector<uint64_t> pending{1}; // items still to read at each open level
    while (!pending.empty()) {
        if (pending.back() == 0) {
            pending.pop_back();
            continue;
        }
        --pending.back();
        if (pos >= data.size()) {
            error = "truncated CBOR at byte " + std::to_string(pos);
            return std::nullopt;
        }
        auto initial = static_cast<uint8_t>(data[pos++]);
        uint8_t major = initial >> 5, info = initial & 0x1f;
        uint64_t argument = info;
        if (info >= 24 && info <= 27) {
            size_t width = size_t{1} << (info - 24);
            if (data.size() - pos < width) {
                error = "truncated CBOR at byte " + std::to_string(pos);
                return std::nullopt;
            }
            argument = 0;
            for (size_t i = 0; i < width; ++i) argument = (argument << 8) | static_cast<uint8_t>(data[pos++]);
        } else if (info > 27) {
            error = info == 31 ? "indefinite length (not allowed in DAG-CBOR)" : "reserved CBOR header";
            error += " at byte " + std::to_string(pos - 1);
            return std::nullopt;
        }
        uint64_t left = data.size() - pos;
        switch (major) {
        case 2:
        case 3:
            if (argument > left) {
                error = "a string of " + std::to_string(argument) + " bytes past the end at byte " +
                        std::to_string(pos);
                return std::nullopt;
            }
            pos += argument;
            break;
        case 4:
        case 5: {
            uint64_t items = major == 5 ? argument * 2 : argument;
            if (argument > left || items > left) {
                error = "a list of " + std::to_string(argument) + " items past the end at byte " + std::to_string(pos);
                return std::nullopt;
            }
            if (pending.size() > kMaxDepth) {
                error = "nested deeper than 64 levels";
                return std::nullopt;
            }
            pending.push_back(items);
            break;
        }
        case 6:
            if (pending.size() > kMaxDepth) {
                error = "nested deeper than 64 levels";
                return std::nullopt;
            }
            pending.push_back(1);
            break;
        default: break; // integers and simple values: the header is all
        }
    }
    return pos;
}

const char *load_error(cbor_error_code code) {
    switch (code) {
    case CBOR_ERR_NOTENOUGHDATA: return "truncated CBOR";
    case CBOR_ERR_NODATA: return "empty input";
    case CBOR_ERR_MALFORMATED: return "malformed CBOR";
    case CBOR_ERR_MEMERROR: return "CBOR item too large to allocate";
    case CBOR_ERR_SYNTAXERROR: return "CBOR syntax error";
    default: return "invalid CBOR";
    }
}

} // namespace

std::optional<Decoded> decode_cbor(std::string_view data, std::string &error) {
    if (data.empty()) {
        error = "empty input";
        return std::nullopt;
    }
    auto size = scan_item(data, error);
    if (!size) return std::nullopt;
    struct cbor_load_result result {};
    cbor_item_t *item = cbor_load(reinterpret_cast<cbor_data>(data.data()), *size, &result);
    if (!item || result.error.code != CBOR_ERR_NONE) {
        if (item) cbor_decref(&item);
        error = std::string(load_error(result.error.code)) + " at byte " + std::to_string(result.error.position);
        return std::nullopt;
    }
    Decoded out;
    out.consumed = result.read;
    bool ok = convert(item, out.value, 0, error);
    cbor_decref(&item);
    if (!ok) return std::nullopt;
    return out;
}

} // namespace bluesky
