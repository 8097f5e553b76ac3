#include "core/utf8.hpp"

namespace relais {

namespace {
// Length of the valid sequence at s[i], or 0.
size_t sequence_length(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0; // overlong
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}
} // namespace

size_t first_invalid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t n = sequence_length(s, i);
        if (!n) return i;
        i += n;
    }
    return std::string_view::npos;
}

bool valid_utf8(std::string_view s) { return first_invalid_utf8(s) == std::string_view::npos; }

std::string repair_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        size_t n = sequence_length(s, i);
        if (n) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

void repair_utf8(Message &m) {
    auto repair = [](std::string &s) {
        if (!valid_utf8(s)) s = repair_utf8(s);
    };
    for (std::string *s : {&m.channel, &m.native_id, &m.author, &m.author_id, &m.text, &m.thread_id, &m.reply_to,
                           &m.language})
        repair(*s);
    for (auto *list : {&m.tags, &m.mentions, &m.links})
        for (auto &s : *list) repair(s);
    for (auto &a : m.attachments) {
        repair(a.url);
        repair(a.mime_type);
        repair(a.name);
    }
    for (auto &[key, value] : m.metadata) {
        repair(key);
        repair(value);
    }
}

} // namespace relais
