// html_text.cpp — a small HTML reader for status content: no DOM, one pass, never throws.
#include "html_text.hpp"

#include <cstdint>

namespace relais::mastodon {
namespace {

struct Named {
    std::string_view name;
    uint32_t cp;
};

// What status HTML uses in practice: Mastodon escapes only & < > " ', other servers a few more.
constexpr Named named_entities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},    {"apos", '\''},   {"nbsp", 0xA0},
    {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"laquo", 0xAB},  {"raquo", 0xBB},  {"rsquo", 0x2019},
    {"lsquo", 0x2018},  {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"copy", 0xA9},   {"reg", 0xAE},    {"euro", 0x20AC},
    {"eacute", 0xE9},   {"egrave", 0xE8},  {"agrave", 0xE0},  {"ccedil", 0xE7}, {"middot", 0xB7}, {"bull", 0x2022},
};

void append_utf8(std::string &out, uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ':';
}
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

struct Tag {
    std::string name; // lower case
    bool closing = false;
    std::string href, cls;
};

// Reads the tag at s[i] == '<'; returns the index after its '>' (or the end). Quoted values may hold '>'.
size_t read_tag(std::string_view s, size_t i, Tag &tag) {
    size_t p = i + 1;
    if (p < s.size() && s[p] == '/') tag.closing = true, ++p;
    while (p < s.size() && is_name_char(s[p]))
        tag.name += lower(s[p++]);
    while (p < s.size() && s[p] != '>') {
        if (is_space(s[p]) || s[p] == '/') {
            ++p;
            continue;
        }
        std::string attr;
        while (p < s.size() && !is_space(s[p]) && s[p] != '=' && s[p] != '>' && s[p] != '/')
            attr += lower(s[p++]);
        if (attr.empty()) { // a stray character such as a quote: skip it
            ++p;
            continue;
        }
        while (p < s.size() && is_space(s[p]))
            ++p;
        if (p >= s.size() || s[p] != '=') continue;
        ++p;
        while (p < s.size() && is_space(s[p]))
            ++p;
        std::string value;
        if (p < s.size() && (s[p] == '"' || s[p] == '\'')) {
            char quote = s[p++];
            size_t end = s.find(quote, p);
            if (end == std::string_view::npos) end = s.size();
            value = std::string(s.substr(p, end - p));
            p = end < s.size() ? end + 1 : end;
        } else {
            while (p < s.size() && !is_space(s[p]) && s[p] != '>')
                value += s[p++];
        }
        if (attr == "href")
            tag.href = decode_entities(value);
        else if (attr == "class")
            tag.cls = value;
    }
    return p < s.size() ? p + 1 : s.size();
}

bool has_class(const std::string &classes, std::string_view name) {
    size_t at = 0;
    while ((at = classes.find(name, at)) != std::string::npos) {
        bool starts = at == 0 || is_space(classes[at - 1]);
        bool ends = at + name.size() == classes.size() || is_space(classes[at + name.size()]);
        if (starts && ends) return true;
        at += name.size();
    }
    return false;
}

bool is_block(const std::string &name) {
    static constexpr std::string_view blocks[] = {"div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2",
                                                  "h3",  "h4", "h5", "h6", "table",      "tr",  "hr"};
    for (auto b : blocks)
        if (name == b) return true;
    return false;
}

// Whitespace runs become one space (HTML's rule); a break ('\n') eats the spaces around it.
class Writer {
public:
    void text(std::string_view t) {
        for (char c : t) {
            if (is_space(c))
                pending_space_ = true;
            else
                put(c);
        }
    }
    void raw(std::string_view t) {
        for (char c : t)
            put(c);
    }
    void breaks(int n) { // n line breaks, unless as many are already there
        pending_space_ = false;
        if (out_.empty()) return;
        int have = 0;
        for (size_t i = out_.size(); i > 0 && out_[i - 1] == '\n'; --i)
            ++have;
        if (n > 2) n = 2;
        while (have < n)
            out_ += '\n', ++have;
    }
    std::string finish() {
        while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' '))
            out_.pop_back();
        return out_;
    }

private:
    void put(char c) {
        if (pending_space_ && !out_.empty() && out_.back() != '\n') out_ += ' ';
        pending_space_ = false;
        out_ += c;
    }
    std::string out_;
    bool pending_space_ = false;
};

std::string collapse(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (is_space(c)) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// "https://www.example.com/a" shown as "www.example.com/a" or "example.com/a…" is the address itself.
bool label_is_address(const std::string &label, const std::string &href) {
    if (label.empty() || label == href) return true;
    std::string_view h = href;
    for (std::string_view scheme : {"https://", "http://"})
        if (h.substr(0, scheme.size()) == scheme) h.remove_prefix(scheme.size());
    std::string_view l = label;
    if (l.size() >= 3 && l.substr(l.size() - 3) == "\xE2\x80\xA6") l.remove_suffix(3);
    for (std::string_view scheme : {"https://", "http://"})
        if (l.substr(0, scheme.size()) == scheme) l.remove_prefix(scheme.size());
    if (l.empty()) return true;
    if (h.substr(0, l.size()) == l) return true;
    if (h.substr(0, 4) == "www." && h.substr(4, l.size()) == l) return true;
    return false;
}

} // namespace

std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        size_t semi = s.find(';', i + 1);
        if (semi == std::string_view::npos || semi - i > 12) {
            out += '&';
            continue;
        }
        std::string_view ref = s.substr(i + 1, semi - i - 1);
        bool done = false;
        if (ref.size() >= 2 && ref[0] == '#') {
            bool hex = ref[1] == 'x' || ref[1] == 'X';
            std::string_view digits = ref.substr(hex ? 2 : 1);
            uint32_t cp = 0;
            bool ok = !digits.empty() && digits.size() <= 7;
            for (char c : digits) {
                int d = (c >= '0' && c <= '9')          ? c - '0'
                        : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                        : -1;
                if (d < 0) {
                    ok = false;
                    break;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
            }
            if (ok) append_utf8(out, cp), done = true;
        } else {
            for (const auto &e : named_entities)
                if (e.name == ref) {
                    append_utf8(out, e.cp);
                    done = true;
                    break;
                }
        }
        if (done)
            i = semi;
        else
            out += '&';
    }
    return out;
}

PlainText html_to_text(std::string_view html) {
    PlainText result;
    Writer w;
    bool in_link = false, link_is_mention = false;
    std::string href, label; // the open link's address and what it shows
    int skip_depth = 0;      // inside <script>/<style>: nothing is text

    auto close_link = [&] {
        if (!in_link) return;
        in_link = false;
        std::string shown = collapse(decode_entities(label));
        if (link_is_mention || href.empty()) {
            w.text(shown);
            return;
        }
        result.links.push_back(href);
        if (label_is_address(shown, href))
            w.raw(href);
        else {
            w.text(shown);
            w.text(" (");
            w.raw(href);
            w.raw(")");
        }
    };

    for (size_t i = 0; i < html.size();) {
        if (html[i] != '<') {
            size_t next = html.find('<', i);
            if (next == std::string_view::npos) next = html.size();
            std::string_view chunk = html.substr(i, next - i);
            if (skip_depth == 0) {
                if (in_link)
                    label.append(chunk);
                else
                    w.text(decode_entities(chunk));
            }
            i = next;
            continue;
        }
        if (html.substr(i, 4) == "<!--") {
            size_t end = html.find("-->", i + 4);
            i = end == std::string_view::npos ? html.size() : end + 3;
            continue;
        }
        bool looks_like_tag =
            i + 1 < html.size() && (is_name_char(html[i + 1]) || html[i + 1] == '/' || html[i + 1] == '!');
        if (!looks_like_tag) { // a lone '<' is text
            if (skip_depth == 0) {
                if (in_link)
                    label += '<';
                else
                    w.text("<");
            }
            ++i;
            continue;
        }
        Tag tag;
        i = read_tag(html, i, tag);
        if (tag.name == "script" || tag.name == "style") {
            skip_depth += tag.closing ? (skip_depth > 0 ? -1 : 0) : 1;
            continue;
        }
        if (skip_depth > 0) continue;
        if (tag.name == "a") {
            if (tag.closing) {
                close_link();
            } else {
                close_link();
                in_link = true;
                href = tag.href;
                label.clear();
                link_is_mention = has_class(tag.cls, "mention") || has_class(tag.cls, "hashtag");
            }
        } else if (tag.name == "br") {
            close_link();
            w.breaks(1);
        } else if (tag.name == "p") {
            close_link();
            w.breaks(2);
        } else if (is_block(tag.name)) {
            close_link();
            w.breaks(1);
        } else if (tag.name == "img" && in_link) {
            // an image inside a link adds nothing to its label
        }
    }
    close_link();
    result.text = w.finish();
    return result;
}

} // namespace relais::mastodon
