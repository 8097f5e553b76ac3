#include "convert.hpp"

#include <boost/json.hpp>

namespace relais::api {
namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// A member of a Go struct as encoding/json finds it: the exact name first, else any case.
const json::value *member(const json::object &o, std::string_view name) {
    if (auto it = o.find(name); it != o.end()) return &it->value();
    std::string want = lower(name);
    for (const auto &kv : o)
        if (lower(kv.key()) == want) return &kv.value();
    return nullptr;
}

std::string string_member(const json::object &o, std::string_view name) {
    const json::value *v = member(o, name);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Extra["file"] holds Matterbridge's config.FileInfo items; those with a URL become attachments.
std::vector<Attachment> attachments_from_extra(const json::object &extra) {
    std::vector<Attachment> out;
    const json::value *files = member(extra, "file");
    if (!files || !files->is_array()) return out;
    for (const auto &item : files->get_array()) {
        if (!item.is_object()) continue;
        const auto &f = item.get_object();
        Attachment a;
        a.url = string_member(f, "URL");
        if (a.url.empty()) continue;
        a.name = string_member(f, "Name");
        if (const json::value *size = member(f, "Size")) {
            if (size->is_int64() && size->get_int64() > 0) a.size_bytes = static_cast<uint64_t>(size->get_int64());
            else if (size->is_uint64()) a.size_bytes = size->get_uint64();
        }
        out.push_back(std::move(a));
    }
    return out;
}

json::object extra_from_attachments(const std::vector<Attachment> &attachments) {
    json::object extra;
    if (attachments.empty()) return extra;
    json::array files;
    for (const auto &a : attachments)
        files.push_back(json::object{{"Name", a.name.empty() ? a.url : a.name},
                                     {"Data", nullptr},
                                     {"Comment", ""},
                                     {"URL", a.url},
                                     {"Size", a.size_bytes},
                                     {"Avatar", false},
                                     {"SHA", ""},
                                     {"NativeID", ""}});
    extra["file"] = std::move(files);
    return extra;
}

// Only Matterbridge's own event names pass: another network's "event" metadata means something else.
bool is_matterbridge_event(std::string_view e) {
    return e == "join_leave" || e == "topic_change" || e == event_user_action || e == "file_delete" ||
           e == "notice" || e == event_user_typing;
}

} // namespace

std::optional<Inbound> to_relais(MbMessage posted, const InboundDefaults &defaults, std::string &error) {
    Inbound in;
    MbMessage &mb = in.echo;
    mb = std::move(posted);
    const bool is_delete = mb.event == event_msg_delete;
    if (is_delete && mb.id.empty()) {
        error = "a msg_delete event needs \"id\": the id of the message to delete";
        return std::nullopt;
    }
    if (mb.channel.empty()) mb.channel = "api";
    if (mb.account.empty()) mb.account = defaults.account;
    if (mb.protocol.empty()) mb.protocol = "api";
    if (mb.gateway.empty()) mb.gateway = defaults.gateway;
    if (!mb.timestamp_ms) mb.timestamp_ms = defaults.now_ms;
    if (!is_delete && mb.id.empty()) mb.id = defaults.native_id;

    // Events that carry nothing to relay: accepted and answered, not emitted.
    if (mb.event == event_api_connected || mb.event == event_user_typing) return in;

    std::vector<Attachment> attachments;
    if (mb.extra) attachments = attachments_from_extra(*mb.extra);
    if (mb.event.empty() && mb.text.empty() && attachments.empty()) {
        error = "field \"text\" is empty: a message needs text (or an \"event\", or files in Extra)";
        return std::nullopt;
    }

    Message m;
    m.text = mb.text;
    m.author = mb.username;
    m.author_id = mb.userid;
    m.channel = mb.channel;
    m.created_at_ms = mb.timestamp_ms;
    m.attachments = std::move(attachments);
    if (is_delete) {
        m.kind = Kind::remove;
        m.reply_to = mb.id;
        m.native_id = defaults.native_id;
    } else {
        m.native_id = mb.id;
        if (!mb.parent_id.empty() && mb.parent_id != parent_not_found) {
            m.kind = Kind::reply;
            m.reply_to = mb.parent_id;
        }
    }
    auto meta = [&](const char *key, const std::string &value) {
        if (!value.empty()) m.metadata.emplace_back(key, value);
    };
    meta("avatar", mb.avatar);
    meta("account", mb.account);
    meta("protocol", mb.protocol);
    meta("gateway", mb.gateway);
    meta("event", mb.event);
    if (mb.extra && !mb.extra->empty()) meta("extra", json::serialize(*mb.extra));
    in.message = std::move(m);
    return in;
}

MbMessage from_relais(const Message &m, const Delivery &d, const OutboundSettings &settings) {
    MbMessage mb;
    mb.text = d.rendered.empty() ? m.text : d.rendered;
    mb.channel = d.channel.empty() ? m.channel : d.channel;
    mb.username = m.author;
    mb.userid = m.author_id;
    mb.avatar = std::string(m.meta("avatar"));
    // Matterbridge reports the account the message came from, as "protocol.name".
    if (m.network == "api" && !m.meta("account").empty()) mb.account = std::string(m.meta("account"));
    else if (!m.source.empty()) mb.account = (m.network.empty() ? std::string("relais") : m.network) + "." + m.source;
    else mb.account = settings.account;
    if (is_matterbridge_event(m.meta("event"))) mb.event = std::string(m.meta("event"));
    mb.protocol = m.network;
    mb.gateway = settings.gateway;
    mb.timestamp_ms = m.created_at_ms ? m.created_at_ms : m.received_at_ms ? m.received_at_ms : settings.now_ms;
    mb.id = m.id;
    switch (m.kind) {
    case Kind::remove: // Matterbridge's form of a deletion: the event and the deleted message's id
        mb.event = std::string(event_msg_delete);
        mb.text.clear();
        if (!d.reply_to.empty()) mb.id = d.reply_to;
        break;
    case Kind::edit: // Matterbridge's form of an edit: the edited message's id again
        if (!d.reply_to.empty()) mb.id = d.reply_to;
        break;
    default: mb.parent_id = d.reply_to; break;
    }
    mb.extra = extra_from_attachments(m.attachments);
    return mb;
}

MbMessage greeting(int64_t now_ms) {
    MbMessage g;
    g.event = std::string(event_api_connected);
    g.timestamp_ms = now_ms;
    return g;
}

} // namespace relais::api
