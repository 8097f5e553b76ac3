#include "mb_message.hpp"

#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>

namespace relais::api {
namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The string fields of config.Message, by their JSON name.
std::string *string_field(MbMessage &m, const std::string &name) {
    if (name == "text") return &m.text;
    if (name == "channel") return &m.channel;
    if (name == "username") return &m.username;
    if (name == "userid") return &m.userid;
    if (name == "avatar") return &m.avatar;
    if (name == "account") return &m.account;
    if (name == "event") return &m.event;
    if (name == "protocol") return &m.protocol;
    if (name == "gateway") return &m.gateway;
    if (name == "parent_id") return &m.parent_id;
    if (name == "id") return &m.id;
    return nullptr;
}

const char *type_name(const json::value &v) {
    switch (v.kind()) {
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
    case json::kind::null: return "null";
    }
    return "a value";
}

int digits(std::string_view s, size_t pos, size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

} // namespace

bool valid_utf8(std::string_view text) {
    const auto *s = reinterpret_cast<const unsigned char *>(text.data());
    size_t n = text.size(), i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        // No overlong forms, no surrogates, nothing above U+10FFFF.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
        i += len;
    }
    return true;
}

std::string format_rfc3339(int64_t unix_ms) {
    using namespace std::chrono;
    sys_time<milliseconds> tp{milliseconds{unix_ms}};
    auto day = floor<days>(tp);
    year_month_day ymd{day};
    hh_mm_ss<milliseconds> t{tp - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(t.hours().count()), static_cast<int>(t.minutes().count()),
                  static_cast<int>(t.seconds().count()), static_cast<int>(t.subseconds().count()));
    return buf;
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
    int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
    int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return std::nullopt;
    size_t pos = 19;
    int64_t millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            millis += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
        if (oh < 0 || om < 0 || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
        offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    using namespace std::chrono;
    year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                       std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    int64_t ms = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count() +
                 ((hour * 60 + minute - offset_min) * 60 + second) * int64_t{1000} + millis;
    return ms;
}

std::optional<MbMessage> parse_mb_message(std::string_view body, std::string &error) {
    if (!valid_utf8(body)) {
        error = "the body is not valid UTF-8";
        return std::nullopt;
    }
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) {
        error = "the body is not valid JSON (" + ec.message() + "); send one JSON object such as "
                "{\"text\": \"hello\", \"username\": \"alice\", \"gateway\": \"main\"}";
        return std::nullopt;
    }
    if (!v.is_object()) {
        error = std::string("expected a JSON object, got ") + type_name(v);
        return std::nullopt;
    }
    MbMessage m;
    for (const auto &member : v.get_object()) {
        std::string name = lower(member.key());
        const json::value &value = member.value();
        if (name == "timestamp") {
            if (value.is_null()) continue;
            if (!value.is_string()) {
                error = std::string("field \"timestamp\" must be an RFC 3339 string, got ") + type_name(value);
                return std::nullopt;
            }
            std::string_view text = value.get_string();
            if (text.empty()) continue;
            auto ms = parse_rfc3339(text);
            if (!ms) {
                error = "field \"timestamp\" is not an RFC 3339 date such as 2024-05-01T12:00:00Z: \"" +
                        std::string(text) + "\"";
                return std::nullopt;
            }
            m.timestamp_ms = *ms > 0 ? *ms : 0; // Go's zero time (year 1) means "not set"
        } else if (name == "extra") {
            if (value.is_null()) continue;
            if (!value.is_object()) {
                error = std::string("field \"Extra\" must be an object, got ") + type_name(value);
                return std::nullopt;
            }
            m.extra = value.get_object();
        } else if (std::string *field = string_field(m, name)) {
            if (value.is_null()) continue;
            if (!value.is_string()) {
                error = "field \"" + name + "\" must be a string, got " + type_name(value);
                return std::nullopt;
            }
            *field = std::string(value.get_string());
        }
        // Anything else is ignored, as Matterbridge does.
    }
    return m;
}

json::object mb_to_json(const MbMessage &m) {
    json::object o;
    o.reserve(13);
    o["text"] = m.text;
    o["channel"] = m.channel;
    o["username"] = m.username;
    o["userid"] = m.userid;
    o["avatar"] = m.avatar;
    o["account"] = m.account;
    o["event"] = m.event;
    o["protocol"] = m.protocol;
    o["gateway"] = m.gateway;
    o["parent_id"] = m.parent_id;
    o["timestamp"] = m.timestamp_ms ? format_rfc3339(m.timestamp_ms) : std::string("0001-01-01T00:00:00Z");
    o["id"] = m.id;
    if (m.extra) o["Extra"] = *m.extra;
    else o["Extra"] = nullptr;
    return o;
}

std::string mb_to_json_text(const MbMessage &m) { return json::serialize(mb_to_json(m)); }

} // namespace relais::api
