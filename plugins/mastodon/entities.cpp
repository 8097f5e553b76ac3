// entities.cpp — reading the API's JSON with Boost.JSON, field by field, so a bad field is named in the error.
#include "entities.hpp"

#include "html_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <ctime>

namespace relais::mastodon {
namespace json = boost::json;
namespace {

const json::object &object_of(const json::value &v, const char *what) {
    if (!v.is_object()) throw PayloadError(std::string(what) + " is not a JSON object");
    return v.get_object();
}

// A string field; null or absent gives "". Numbers are accepted for ids (some servers send them).
std::string text_field(const json::object &o, const char *key, const std::string &where) {
    const json::value *v = o.if_contains(key);
    if (!v || v->is_null()) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    throw PayloadError(where + ": \"" + key + "\" is not a string");
}

std::string required_id(const json::object &o, const std::string &what) {
    std::string id = text_field(o, "id", what);
    if (id.empty()) throw PayloadError(what + " has no \"id\"");
    return id;
}

const json::array *array_field(const json::object &o, const char *key, const std::string &where) {
    const json::value *v = o.if_contains(key);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_array()) throw PayloadError(where + ": \"" + key + "\" is not a list");
    return &v->get_array();
}

std::string lower_ascii(std::string s) {
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// acct is "alice" for the server's own accounts: qualify it with the server's host so it names one account.
std::string qualified(const std::string &acct, const std::string &server) {
    if (acct.empty() || acct.find('@') != std::string::npos) return acct;
    auto parsed = boost::urls::parse_uri(server);
    if (!parsed) return acct;
    return acct + "@" + std::string(parsed->host());
}

} // namespace

json::value parse_json(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) throw PayloadError("not valid JSON (" + ec.message() + ")");
    return v;
}

json::array parse_array(std::string_view body) {
    json::value v = parse_json(body);
    if (!v.is_array()) throw PayloadError("not a JSON list");
    return std::move(v.get_array());
}

Account parse_account(const json::value &v) {
    const json::object &o = object_of(v, "the account");
    Account a;
    a.id = required_id(o, "an account");
    std::string where = "account " + a.id;
    a.acct = text_field(o, "acct", where);
    a.username = text_field(o, "username", where);
    a.display_name = text_field(o, "display_name", where);
    a.url = text_field(o, "url", where);
    if (a.acct.empty()) a.acct = a.username;
    return a;
}

Status parse_status(const json::value &v) {
    const json::object &o = object_of(v, "the status");
    Status s;
    s.id = required_id(o, "a status");
    std::string where = "status " + s.id;
    if (auto t = parse_iso_time(text_field(o, "created_at", where))) s.created_at_ms = *t;
    s.edited_at = text_field(o, "edited_at", where);
    s.in_reply_to_id = text_field(o, "in_reply_to_id", where);
    if (const json::value *b = o.if_contains("sensitive"); b && b->is_bool()) s.sensitive = b->get_bool();
    s.spoiler_text = text_field(o, "spoiler_text", where);
    s.visibility = text_field(o, "visibility", where);
    if (s.visibility.empty()) s.visibility = "public";
    s.language = text_field(o, "language", where);
    s.uri = text_field(o, "uri", where);
    s.url = text_field(o, "url", where);
    s.content = text_field(o, "content", where);
    const json::value *account = o.if_contains("account");
    if (!account) throw PayloadError(where + " has no \"account\"");
    try {
        s.account = parse_account(*account);
    } catch (const PayloadError &e) {
        throw PayloadError(where + ": " + e.what());
    }
    if (const json::array *media = array_field(o, "media_attachments", where))
        for (const json::value &m : *media) {
            if (!m.is_object()) continue;
            Media item{text_field(m.get_object(), "type", where), text_field(m.get_object(), "url", where),
                       text_field(m.get_object(), "description", where)};
            if (item.url.empty()) item.url = text_field(m.get_object(), "remote_url", where);
            if (!item.url.empty()) s.media.push_back(std::move(item));
        }
    if (const json::array *mentions = array_field(o, "mentions", where))
        for (const json::value &m : *mentions)
            if (m.is_object()) {
                std::string acct = text_field(m.get_object(), "acct", where);
                if (!acct.empty()) s.mention_accts.push_back(acct);
            }
    if (const json::array *tags = array_field(o, "tags", where))
        for (const json::value &t : *tags)
            if (t.is_object()) {
                std::string name = lower_ascii(text_field(t.get_object(), "name", where));
                if (!name.empty() && std::find(s.tags.begin(), s.tags.end(), name) == s.tags.end())
                    s.tags.push_back(name);
            }
    if (const json::value *r = o.if_contains("reblog"); r && !r->is_null()) {
        try {
            s.reblog = std::make_shared<Status>(parse_status(*r));
        } catch (const PayloadError &e) {
            throw PayloadError(where + " boosts " + e.what());
        }
    }
    return s;
}

Notification parse_notification(const json::value &v) {
    const json::object &o = object_of(v, "the notification");
    Notification n;
    n.id = required_id(o, "a notification");
    std::string where = "notification " + n.id;
    n.type = text_field(o, "type", where);
    if (const json::value *a = o.if_contains("account"); a && !a->is_null()) {
        try {
            n.account = parse_account(*a);
        } catch (const PayloadError &e) {
            throw PayloadError(where + ": " + e.what());
        }
    }
    if (const json::value *s = o.if_contains("status"); s && !s->is_null()) {
        try {
            n.status = parse_status(*s);
        } catch (const PayloadError &e) {
            throw PayloadError(where + ": " + e.what());
        }
    }
    return n;
}

std::string error_message(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && v.is_object()) {
        const json::object &o = v.get_object();
        const json::value *e = o.if_contains("error");
        if (e && e->is_string()) {
            std::string out(e->get_string());
            const json::value *d = o.if_contains("error_description");
            if (d && d->is_string() && !d->get_string().empty()) out += ": " + std::string(d->get_string());
            return out;
        }
    }
    std::string excerpt(body.substr(0, 200));
    for (char &c : excerpt)
        if (c == '\n' || c == '\r') c = ' ';
    return body.size() > 200 ? excerpt + "…" : excerpt;
}

std::optional<int64_t> parse_iso_time(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]
    auto digits = [&](size_t at, size_t n, int &out) {
        if (at + n > s.size()) return false;
        out = 0;
        for (size_t i = at; i < at + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    int year, month, day, hour, minute, second;
    if (!digits(0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(5, 2, month) || s[7] != '-' ||
        !digits(8, 2, day) || (s[10] != 'T' && s[10] != ' ') || !digits(11, 2, hour) || s[13] != ':' ||
        !digits(14, 2, minute) || s[16] != ':' || !digits(17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    size_t p = 19;
    int millis = 0;
    if (p < s.size() && s[p] == '.') {
        ++p;
        int scale = 100;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
            millis += (s[p] - '0') * scale;
            scale /= 10;
            ++p;
        }
    }
    int offset_min = 0;
    if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
        int oh, om;
        if (!digits(p + 1, 2, oh) || p + 3 >= s.size() || !digits(p + (s[p + 3] == ':' ? 4 : 3), 2, om))
            return std::nullopt;
        offset_min = (oh * 60 + om) * (s[p] == '-' ? -1 : 1);
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_min * 60;
    return secs * 1000 + millis;
}

bool id_newer(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return a.size() > b.size();
    return a > b;
}

Level level_of(std::string_view visibility) {
    if (visibility == "private") return Level::internal;
    if (visibility == "direct") return Level::confidential;
    return Level::public_;
}

std::optional<Message> to_message(const Status &outer, const MastodonConfig &config, const std::string &channel,
                                  std::string *why) {
    const Status &s = outer.reblog ? *outer.reblog : outer;
    if (!config.visibilities.count(outer.visibility)) {
        if (why) *why = "its visibility is " + outer.visibility + ", not listed in `visibilities`";
        return std::nullopt;
    }
    if (!s.spoiler_text.empty() && config.content_warning == ContentWarning::skip) {
        if (why) *why = "it has a content warning and content_warning is skip";
        return std::nullopt;
    }
    Message m;
    m.channel = channel;
    m.native_id = outer.id;
    m.kind = s.in_reply_to_id.empty() ? Kind::post : Kind::reply;
    m.reply_to = s.in_reply_to_id;
    m.author = s.account.display_name.empty() ? s.account.username : s.account.display_name;
    m.author_id = qualified(s.account.acct, config.server);
    PlainText plain = html_to_text(s.content);
    if (s.spoiler_text.empty())
        m.text = plain.text;
    else if (config.content_warning == ContentWarning::hide)
        m.text = "CW: " + s.spoiler_text;
    else
        m.text = "CW: " + s.spoiler_text + (plain.text.empty() ? "" : "\n\n" + plain.text);
    std::string permalink = s.url.empty() ? s.uri : s.url;
    if (!permalink.empty()) m.links.push_back(permalink);
    if (config.content_warning != ContentWarning::hide || s.spoiler_text.empty())
        for (auto &link : plain.links)
            if (std::find(m.links.begin(), m.links.end(), link) == m.links.end()) m.links.push_back(link);
    m.tags = s.tags;
    for (const auto &acct : s.mention_accts)
        m.mentions.push_back(qualified(acct, config.server));
    for (const auto &media : s.media) {
        Attachment a;
        a.url = media.url;
        if (media.type == "image" || media.type == "video" || media.type == "audio")
            a.mime_type = media.type + "/*";
        else if (media.type == "gifv")
            a.mime_type = "video/*";
        a.name = media.description;
        m.attachments.push_back(std::move(a));
    }
    m.language = s.language;
    m.created_at_ms = outer.created_at_ms ? outer.created_at_ms : s.created_at_ms;
    m.level = level_of(outer.visibility);
    m.metadata.emplace_back("visibility", outer.visibility);
    m.metadata.emplace_back("status_id", s.id);
    if (!s.account.url.empty()) m.metadata.emplace_back("account_url", s.account.url);
    if (!s.spoiler_text.empty()) m.metadata.emplace_back("spoiler_text", s.spoiler_text);
    if (s.sensitive) m.metadata.emplace_back("sensitive", "true");
    if (outer.reblog) m.metadata.emplace_back("boosted_by", qualified(outer.account.acct, config.server));
    return m;
}

} // namespace relais::mastodon
