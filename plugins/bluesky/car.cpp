#include "car.hpp"

#include "cbor_value.hpp"

namespace bluesky {

std::optional<uint64_t> read_varint(std::string_view data, size_t &pos) {
    uint64_t value = 0;
    for (int i = 0; i < 9; ++i) {
        if (pos >= data.size()) return std::nullopt;
        auto byte = static_cast<uint8_t>(data[pos++]);
        value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) return value;
    }
    return std::nullopt;
}

std::optional<Cid> read_cid(std::string_view data, size_t &pos, std::string &error) {
    size_t start = pos;
    Cid cid;
    if (data.size() - pos >= 34 && data[pos] == 0x12 && data[pos + 1] == 0x20) { // CIDv0: a bare sha2-256 multihash
        cid.version = 0;
        cid.codec = 0x70;
        cid.hash_code = 0x12;
        cid.digest = std::string(data.substr(pos + 2, 32));
        pos += 34;
        cid.bytes = std::string(data.substr(start, 34));
        return cid;
    }
    auto version = read_varint(data, pos);
    auto codec = version ? read_varint(data, pos) : std::nullopt;
    auto code = codec ? read_varint(data, pos) : std::nullopt;
    auto length = code ? read_varint(data, pos) : std::nullopt;
    if (!length) {
        error = "truncated CID";
        return std::nullopt;
    }
    if (*version != 1) {
        error = "unsupported CID version " + std::to_string(*version);
        return std::nullopt;
    }
    if (*length > 64 || *length > data.size() - pos) {
        error = "CID digest of " + std::to_string(*length) + " bytes does not fit";
        return std::nullopt;
    }
    cid.version = 1;
    cid.codec = *codec;
    cid.hash_code = *code;
    cid.digest = std::string(data.substr(pos, *length));
    pos += *length;
    cid.bytes = std::string(data.substr(start, pos - start));
    return cid;
}

std::string cid_to_string(std::string_view cid_bytes) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string out = "b";
    uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char c : cid_bytes) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 5) {
            out += alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
    return out;
}

std::optional<Car> read_car(std::string_view data, std::string &error) {
    size_t pos = 0;
    auto header_length = read_varint(data, pos);
    if (!header_length || *header_length == 0 || *header_length > data.size() - pos) {
        error = "CAR header length missing or past the end";
        return std::nullopt;
    }
    auto header = decode_cbor(data.substr(pos, *header_length), error);
    if (!header) {
        error = "CAR header: " + error;
        return std::nullopt;
    }
    if (header->value.number("version") != 1) {
        error = "CAR header is not version 1";
        return std::nullopt;
    }
    pos += *header_length;
    Car car;
    while (pos < data.size()) {
        auto section_length = read_varint(data, pos);
        if (!section_length || *section_length > data.size() - pos) {
            error = "CAR section length past the end at byte " + std::to_string(pos);
            return std::nullopt;
        }
        std::string_view section = data.substr(pos, *section_length);
        size_t in_section = 0;
        auto cid = read_cid(section, in_section, error);
        if (!cid) {
            error = "CAR section at byte " + std::to_string(pos) + ": " + error;
            return std::nullopt;
        }
        car.blocks[cid->bytes] = std::string(section.substr(in_section));
        pos += *section_length;
    }
    return car;
}

} // namespace bluesky
