#include <relais/message_line.hpp>

#include <relais/message_json.hpp>

#include <boost/json/serialize.hpp>

#include <ctime>

namespace relais::lines {
namespace {

std::string utc_time(int64_t ms) {
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Appends `s` with line breaks written as \n and terminal control characters (C0, DEL, C1) as '?'.
void append_one_line(std::string &out, std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\n') out += "\\n";
        else if (c == '\r') continue;
        else if (c == '\t') out += ' ';
        else if (c < 0x20 || c == 0x7f) out += '?';
        else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                 static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            out += '?'; // U+0080..U+009F, such as CSI
            ++i;
        } else out += static_cast<char>(c);
    }
}

} // namespace

std::optional<Format> parse_format(std::string_view name) {
    if (name == "text") return Format::text;
    if (name == "json") return Format::json;
    return std::nullopt;
}

std::string format_text(const Message &m, const Delivery &d, int64_t now_ms) {
    int64_t when = m.created_at_ms ? m.created_at_ms : m.received_at_ms ? m.received_at_ms : now_ms;
    std::string out = "[" + utc_time(when) + "] ";
    append_one_line(out, m.network.empty() ? std::string_view("?") : std::string_view(m.network));
    if (!m.channel.empty()) {
        out += '/';
        append_one_line(out, m.channel);
    }
    out += ' ';
    append_one_line(out, !m.author.empty() ? m.author : !m.author_id.empty() ? m.author_id : "(unknown)");
    out += ": ";
    append_one_line(out, d.rendered.empty() ? m.text : d.rendered);
    out += '\n';
    return out;
}

std::string format_json(const Message &m, const Delivery &d) {
    boost::json::object o = message_to_json_value(m);
    o["rendered"] = d.rendered;
    o["to_channel"] = d.channel;
    return boost::json::serialize(o) + "\n";
}

std::string format_line(Format f, const Message &m, const Delivery &d, int64_t now_ms) {
    return f == Format::json ? format_json(m, d) : format_text(m, d, now_ms);
}

} // namespace relais::lines
