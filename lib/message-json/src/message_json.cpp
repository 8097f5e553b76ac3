#include <relais/message_json.hpp>

#include <boost/json.hpp>

namespace relais {
namespace json = boost::json;

namespace {

json::array string_array(const std::vector<std::string> &items, const json::storage_ptr &sp) {
    json::array a(sp);
    a.reserve(items.size());
    for (const auto &s : items) a.emplace_back(s);
    return a;
}

bool read_string(const json::value &v, std::string_view field, std::string &out, std::string &error) {
    if (!v.is_string()) {
        error = std::string(field) + ": expected a string";
        return false;
    }
    out = std::string(v.get_string());
    return true;
}

bool read_strings(const json::value &v, std::string_view field, std::vector<std::string> &out, std::string &error) {
    if (!v.is_array()) {
        error = std::string(field) + ": expected a list of strings";
        return false;
    }
    out.clear();
    for (const auto &item : v.get_array()) {
        if (!item.is_string()) {
            error = std::string(field) + ": expected a list of strings";
            return false;
        }
        out.emplace_back(item.get_string());
    }
    return true;
}

bool read_int(const json::value &v, std::string_view field, int64_t &out, std::string &error) {
    if (v.is_int64()) out = v.get_int64();
    else if (v.is_uint64()) out = static_cast<int64_t>(v.get_uint64());
    else if (v.is_double()) out = static_cast<int64_t>(v.get_double());
    else {
        error = std::string(field) + ": expected a number";
        return false;
    }
    return true;
}

} // namespace

namespace {
json::object to_object(const Message &m, const json::storage_ptr &sp) {
    json::object o(sp);
    o.reserve(23);
    o.emplace("id", m.id);
    o.emplace("source", m.source);
    o.emplace("network", m.network);
    o.emplace("channel", m.channel);
    o.emplace("native_id", m.native_id);
    o.emplace("kind", kind_name(m.kind));
    o.emplace("author", m.author);
    o.emplace("author_id", m.author_id);
    o.emplace("text", m.text);
    o.emplace("tags", string_array(m.tags, sp));
    o.emplace("mentions", string_array(m.mentions, sp));
    o.emplace("links", string_array(m.links, sp));
    json::array attachments(sp);
    for (const auto &a : m.attachments)
        attachments.push_back(json::object{
            {"url", a.url}, {"mime_type", a.mime_type}, {"name", a.name}, {"size_bytes", a.size_bytes}});
    o.emplace("attachments", std::move(attachments));
    o.emplace("thread_id", m.thread_id);
    o.emplace("reply_to", m.reply_to);
    o.emplace("level", level_name(m.level));
    o.emplace("language", m.language);
    o.emplace("created_at_ms", m.created_at_ms);
    o.emplace("received_at_ms", m.received_at_ms);
    o.emplace("trace", string_array(m.trace, sp));
    json::object meta(sp);
    for (const auto &[k, v] : m.metadata) meta[k] = v;
    o.emplace("metadata", std::move(meta));
    return o;
}
} // namespace

json::object message_to_json_value(const Message &m) { return to_object(m, {}); }

std::string message_to_json(const Message &m) {
    // Built in one block of memory that is dropped whole: this runs for every message the outbox stores.
    unsigned char buffer[8192];
    json::monotonic_resource memory(buffer, sizeof buffer);
    return json::serialize(to_object(m, &memory));
}

bool message_from_json_value(const json::value &v, Message &out, std::string &error) {
    if (!v.is_object()) {
        error = "a message must be a JSON object";
        return false;
    }
    Message m;
    for (const auto &[key, val] : v.get_object()) {
        std::string_view k = key;
        bool ok = true;
        if (k == "id") ok = read_string(val, k, m.id, error);
        else if (k == "source") ok = read_string(val, k, m.source, error);
        else if (k == "network") ok = read_string(val, k, m.network, error);
        else if (k == "channel") ok = read_string(val, k, m.channel, error);
        else if (k == "native_id") ok = read_string(val, k, m.native_id, error);
        else if (k == "author") ok = read_string(val, k, m.author, error);
        else if (k == "author_id") ok = read_string(val, k, m.author_id, error);
        else if (k == "text") ok = read_string(val, k, m.text, error);
        else if (k == "thread_id") ok = read_string(val, k, m.thread_id, error);
        else if (k == "reply_to") ok = read_string(val, k, m.reply_to, error);
        else if (k == "language") ok = read_string(val, k, m.language, error);
        else if (k == "tags") ok = read_strings(val, k, m.tags, error);
        else if (k == "mentions") ok = read_strings(val, k, m.mentions, error);
        else if (k == "links") ok = read_strings(val, k, m.links, error);
        else if (k == "trace") ok = read_strings(val, k, m.trace, error);
        else if (k == "created_at_ms") ok = read_int(val, k, m.created_at_ms, error);
        else if (k == "received_at_ms") ok = read_int(val, k, m.received_at_ms, error);
        else if (k == "kind") {
            std::string s;
            ok = read_string(val, k, s, error);
            if (ok) {
                auto kind = parse_kind(s);
                if (!kind) {
                    error = "kind: \"" + s + "\" is not one of post, reply, edit, delete, reaction";
                    return false;
                }
                m.kind = *kind;
            }
        } else if (k == "level") {
            std::string s;
            ok = read_string(val, k, s, error);
            if (ok && s != "unset" && !s.empty()) {
                auto level = parse_level(s);
                if (!level) {
                    error = "level: \"" + s + "\" is not one of public, internal, confidential, secret";
                    return false;
                }
                m.level = *level;
            }
        } else if (k == "attachments") {
            if (!val.is_array()) {
                error = "attachments: expected a list";
                return false;
            }
            for (const auto &item : val.get_array()) {
                if (!item.is_object()) {
                    error = "attachments: each attachment is an object with url, mime_type, name, size_bytes";
                    return false;
                }
                Attachment a;
                const auto &obj = item.get_object();
                if (auto *p = obj.if_contains("url"); p && p->is_string()) a.url = std::string(p->get_string());
                if (auto *p = obj.if_contains("mime_type"); p && p->is_string())
                    a.mime_type = std::string(p->get_string());
                if (auto *p = obj.if_contains("name"); p && p->is_string()) a.name = std::string(p->get_string());
                if (auto *p = obj.if_contains("size_bytes"); p && p->is_number())
                    a.size_bytes = p->to_number<uint64_t>();
                m.attachments.push_back(std::move(a));
            }
        } else if (k == "metadata") {
            if (!val.is_object()) {
                error = "metadata: expected an object of strings";
                return false;
            }
            for (const auto &[mk, mv] : val.get_object()) {
                if (mv.is_string()) m.metadata.emplace_back(std::string(mk), std::string(mv.get_string()));
                else m.metadata.emplace_back(std::string(mk), json::serialize(mv));
            }
        } else {
            error = "unknown field \"" + std::string(k) + "\"";
            return false;
        }
        if (!ok) return false;
    }
    out = std::move(m);
    return true;
}

bool message_from_json(std::string_view text, Message &out, std::string &error) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        error = "not valid JSON: " + ec.message();
        return false;
    }
    return message_from_json_value(v, out, error);
}

} // namespace relais
