#include "fields.hpp"

#include <boost/json.hpp>

namespace relais::archive_sqlite {
namespace json = boost::json;

namespace {
// The stored text parsed back; a column that is not valid JSON (edited by hand) reads as empty.
json::value parse(const std::string &text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    return ec ? json::value() : v;
}
} // namespace

std::string strings_to_json(const std::vector<std::string> &items) {
    json::array a;
    a.reserve(items.size());
    for (const auto &s : items) a.emplace_back(s);
    return json::serialize(a);
}

std::vector<std::string> strings_from_json(const std::string &text) {
    std::vector<std::string> out;
    json::value v = parse(text);
    if (!v.is_array()) return out;
    for (const auto &item : v.get_array())
        if (item.is_string()) out.emplace_back(item.get_string());
    return out;
}

std::string attachments_to_json(const std::vector<Attachment> &items) {
    json::array a;
    for (const auto &at : items)
        a.push_back(json::object{
            {"url", at.url}, {"mime_type", at.mime_type}, {"name", at.name}, {"size_bytes", at.size_bytes}});
    return json::serialize(a);
}

std::vector<Attachment> attachments_from_json(const std::string &text) {
    std::vector<Attachment> out;
    json::value v = parse(text);
    if (!v.is_array()) return out;
    for (const auto &item : v.get_array()) {
        if (!item.is_object()) continue;
        const auto &o = item.get_object();
        Attachment at;
        if (auto *p = o.if_contains("url"); p && p->is_string()) at.url = std::string(p->get_string());
        if (auto *p = o.if_contains("mime_type"); p && p->is_string()) at.mime_type = std::string(p->get_string());
        if (auto *p = o.if_contains("name"); p && p->is_string()) at.name = std::string(p->get_string());
        if (auto *p = o.if_contains("size_bytes"); p && p->is_uint64()) at.size_bytes = p->get_uint64();
        else if (p && p->is_int64() && p->get_int64() >= 0) at.size_bytes = static_cast<uint64_t>(p->get_int64());
        out.push_back(std::move(at));
    }
    return out;
}

// An array of [key, value] pairs rather than an object: metadata may repeat a key, and order is kept.
std::string metadata_to_json(const std::vector<std::pair<std::string, std::string>> &items) {
    json::array a;
    a.reserve(items.size());
    for (const auto &[k, v] : items) a.push_back(json::array{json::string(k), json::string(v)});
    return json::serialize(a);
}

std::vector<std::pair<std::string, std::string>> metadata_from_json(const std::string &text) {
    std::vector<std::pair<std::string, std::string>> out;
    json::value v = parse(text);
    if (!v.is_array()) return out;
    for (const auto &item : v.get_array()) {
        if (!item.is_array() || item.get_array().size() != 2) continue;
        const auto &pair = item.get_array();
        if (pair[0].is_string() && pair[1].is_string())
            out.emplace_back(std::string(pair[0].get_string()), std::string(pair[1].get_string()));
    }
    return out;
}

std::string tag_words(const std::vector<std::string> &tags) {
    std::string out;
    for (const auto &t : tags) {
        if (t.empty()) continue;
        if (!out.empty()) out += ' ';
        if (t.front() != '#') out += '#';
        out += t;
    }
    return out;
}

} // namespace relais::archive_sqlite
