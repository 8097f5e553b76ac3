#include "inbound.hpp"

#include "text_scan.hpp"

#include <relais/message_json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace relais::webhook {
namespace json = boost::json;
namespace {

// Canonical field (the message model's JSON name) and the other names senders use for it.
struct Alias {
    const char *field;
    std::array<const char *, 3> others;
};
constexpr Alias kFields[] = {
    {"text", {}},
    {"author", {"username", "user_name", "display_name"}},
    {"author_id", {"userid", "user_id"}},
    {"native_id", {"id", "message_id"}},
    {"channel", {"channel_name", "room"}},
    {"thread_id", {"thread_ts", "thread"}},
    {"reply_to", {"in_reply_to", "parent_id"}},
    {"language", {"lang"}},
    {"kind", {}},
    {"level", {}},
    {"tags", {}},
    {"mentions", {}},
    {"links", {}},
    {"attachments", {}},
    {"created_at_ms", {}},
    {"metadata", {}},
};
constexpr std::string_view kStringFields[] = {"text",      "author",   "author_id", "native_id", "channel",
                                              "thread_id", "reply_to", "language",  "kind",      "level"};

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// A list given as a JSON string ("a, b c") becomes an array; items lose their leading marker ('#', '@').
bool normalise_list(json::value &v, std::string_view field, char marker, bool lower, std::string &error) {
    json::array items;
    if (v.is_string()) {
        std::string s(v.get_string());
        for (char &c : s)
            if (c == ',' || c == ';' || c == '\t' || c == '\n') c = ' ';
        size_t i = 0;
        while (i < s.size()) {
            size_t e = s.find(' ', i);
            if (e == std::string::npos) e = s.size();
            if (e > i) items.emplace_back(s.substr(i, e - i));
            i = e + 1;
        }
    } else if (v.is_array()) {
        items = v.get_array();
    } else {
        error = std::string(field) + ": expected a list of strings (or one string)";
        return false;
    }
    json::array out;
    for (auto &item : items) {
        if (!item.is_string()) {
            error = std::string(field) + ": expected a list of strings";
            return false;
        }
        std::string s = trim(std::string_view(item.get_string()));
        if (marker) s.erase(0, s.find_first_not_of(marker)); // "##veille" is the tag "veille" too
        if (lower) s = lowercase(s);
        if (!s.empty()) out.emplace_back(s);
    }
    v = std::move(out);
    return true;
}

// Renames aliases, drops what the host owns or Relais does not know (icon_emoji, blocks…), turns numbers given
// for text fields into text, and normalises lists, so the message model's own parser can read the result.
bool normalise(const json::object &in, json::object &out, std::string &error) {
    for (const Alias &a : kFields) {
        const json::value *v = in.if_contains(a.field);
        for (const char *other : a.others)
            if ((!v || v->is_null()) && other) v = in.if_contains(other);
        if (!v || v->is_null()) continue;
        json::value copy = *v;
        std::string_view field = a.field;
        bool is_string_field =
            std::find(std::begin(kStringFields), std::end(kStringFields), field) != std::end(kStringFields);
        if (is_string_field && copy.is_number() && field != "text") copy = json::serialize(copy);
        if (field == "kind" || field == "level") {
            if (copy.is_string()) copy = lowercase(std::string_view(copy.get_string()));
        } else if (field == "channel") {
            if (copy.is_string() && copy.get_string().starts_with("#")) copy = copy.get_string().subview(1);
        } else if (field == "tags") {
            if (!normalise_list(copy, field, '#', true, error)) return false;
        } else if (field == "mentions") {
            if (!normalise_list(copy, field, '@', false, error)) return false;
        } else if (field == "links") {
            if (!normalise_list(copy, field, 0, false, error)) return false;
        }
        out[field] = std::move(copy);
    }
    return true;
}

} // namespace

bool parse_payload(std::string_view body, const std::string &default_channel, Message &out, std::string &error) {
    size_t bad = 0;
    if (!valid_utf8(body, bad)) {
        error = "the body is not valid UTF-8 (first bad byte at offset " + std::to_string(bad) + ")";
        return false;
    }
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) {
        error = "the body is not valid JSON: " + ec.message();
        return false;
    }
    if (!v.is_object()) {
        error = "the body must be a JSON object such as {\"text\": \"hello\"}";
        return false;
    }
    json::object fields;
    if (!normalise(v.get_object(), fields, error)) return false;

    const json::value *text = fields.if_contains("text");
    if (!text) {
        error = "missing \"text\": the message needs a text, as in {\"text\": \"hello\"}";
        return false;
    }
    if (!text->is_string()) {
        error = "text: expected a string";
        return false;
    }

    Message m;
    if (!message_from_json_value(fields, m, error)) return false;
    if (trim(m.text).empty() && m.kind != Kind::remove && m.kind != Kind::reaction) {
        error = "text is empty";
        return false;
    }
    if (m.channel.empty()) m.channel = default_channel;

    Scanned found = scan_text(m.text);
    auto merge = [](std::vector<std::string> &into, std::vector<std::string> &&more) {
        for (auto &s : more)
            if (std::find(into.begin(), into.end(), s) == into.end()) into.push_back(std::move(s));
    };
    std::vector<std::string> tags, mentions, links; // what the payload lists first, then what the text adds
    merge(tags, std::move(m.tags));
    merge(tags, std::move(found.tags));
    merge(mentions, std::move(m.mentions));
    merge(mentions, std::move(found.mentions));
    merge(links, std::move(m.links));
    merge(links, std::move(found.links));
    m.tags = std::move(tags);
    m.mentions = std::move(mentions);
    m.links = std::move(links);
    out = std::move(m);
    return true;
}

} // namespace relais::webhook
