// line.cpp — parsing and writing IRC lines (RFC 1459/2812 framing with IRCv3 message tags).
#include "line.hpp"

#include <cstdio>
#include <ctime>

namespace relais::irc {

namespace {

std::string unescape_tag_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '\\') {
            out += v[i];
            continue;
        }
        if (++i == v.size()) break; // a lone trailing backslash is dropped
        switch (v[i]) {
        case ':': out += ';'; break;
        case 's': out += ' '; break;
        case '\\': out += '\\'; break;
        case 'r': out += '\r'; break;
        case 'n': out += '\n'; break;
        default: out += v[i]; break;
        }
    }
    return out;
}

} // namespace

std::string_view Line::tag(std::string_view key) const {
    for (const auto &[k, v] : tags)
        if (k == key) return v;
    return {};
}

bool Line::has_tag(std::string_view key) const {
    for (const auto &[k, v] : tags)
        if (k == key) return true;
    return false;
}

const std::string &Line::param(size_t i) const {
    static const std::string empty;
    return i < params.size() ? params[i] : empty;
}

std::optional<Line> parse_line(std::string_view raw) {
    if (raw.find('\0') != std::string_view::npos || raw.find('\r') != std::string_view::npos ||
        raw.find('\n') != std::string_view::npos)
        return std::nullopt;
    Line line;
    auto next_word = [&raw]() {
        size_t end = raw.find(' ');
        std::string_view word = raw.substr(0, end);
        raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + 1);
        while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
        return word;
    };
    while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
    if (!raw.empty() && raw.front() == '@') {
        std::string_view tags = next_word().substr(1);
        if (tags.empty()) return std::nullopt;
        while (!tags.empty()) {
            size_t semi = tags.find(';');
            std::string_view item = tags.substr(0, semi);
            tags = semi == std::string_view::npos ? std::string_view() : tags.substr(semi + 1);
            if (item.empty()) continue;
            size_t eq = item.find('=');
            std::string key(item.substr(0, eq));
            if (key.empty()) return std::nullopt;
            line.tags.emplace_back(key, eq == std::string_view::npos ? std::string() : unescape_tag_value(item.substr(eq + 1)));
        }
    }
    if (!raw.empty() && raw.front() == ':') {
        line.prefix = std::string(next_word().substr(1));
        if (line.prefix.empty()) return std::nullopt;
    }
    std::string_view command = next_word();
    if (command.empty()) return std::nullopt;
    for (char c : command) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!ok) return std::nullopt;
    }
    line.command = std::string(command);
    for (char &c : line.command)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    while (!raw.empty()) {
        if (raw.front() == ':') {
            line.params.emplace_back(raw.substr(1));
            break;
        }
        line.params.emplace_back(next_word());
    }
    return line;
}

std::string_view prefix_nick(std::string_view prefix) {
    size_t bang = prefix.find('!');
    if (bang != std::string_view::npos) return prefix.substr(0, bang);
    size_t at = prefix.find('@');
    return prefix.substr(0, at);
}

std::string format_line(std::string_view command, const std::vector<std::string> &params) {
    std::string out(command);
    for (size_t i = 0; i < params.size(); ++i) {
        out += ' ';
        const std::string &p = params[i];
        bool last = i + 1 == params.size();
        if (last && (p.empty() || p.front() == ':' || p.find(' ') != std::string::npos)) out += ':';
        out += p;
    }
    return out;
}

std::optional<std::string_view> ctcp_action(std::string_view text) {
    constexpr std::string_view head = "\x01" "ACTION";
    if (text.substr(0, head.size()) != head) return std::nullopt;
    text.remove_prefix(head.size());
    if (!text.empty() && text.back() == '\x01') text.remove_suffix(1);
    if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    else if (!text.empty()) return std::nullopt; // "\x01ACTIONS…" is another CTCP
    return text;
}

bool is_ctcp(std::string_view text) { return !text.empty() && text.front() == '\x01'; }

int64_t parse_server_time(std::string_view value) {
    std::string s(value);
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return 0;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    std::string_view rest = value.substr(static_cast<size_t>(used));
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        int64_t scale = 100;
        while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
            ms += (rest.front() - '0') * scale;
            scale /= 10;
            rest.remove_prefix(1);
        }
    }
    if (rest != "Z" && !rest.empty()) return 0;
    return ms;
}

bool is_channel(std::string_view target) {
    return !target.empty() && (target.front() == '#' || target.front() == '&' || target.front() == '+' ||
                               target.front() == '!');
}

std::string irc_lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        else if (c == '[') c = '{';
        else if (c == ']') c = '}';
        else if (c == '\\') c = '|';
        else if (c == '~') c = '^';
    }
    return out;
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        if (n == 2 && c < 0xC2) return false; // overlong
        for (size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

std::string to_utf8(std::string_view s) {
    if (valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            out += ch;
        } else {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

} // namespace relais::irc
