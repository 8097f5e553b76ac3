#include "text_scan.hpp"

#include <algorithm>
#include <clocale>
#include <cstdint>
#include <cwctype>
#include <locale.h>

namespace relais::webhook {
namespace {

// Character classes and case mapping come from glibc's built-in C.UTF-8 locale (Unicode data), used through
// the *_l functions so the process-wide locale is never touched.
locale_t unicode_locale() {
    static locale_t loc = [] {
        locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
        if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(0));
        return l;
    }();
    return loc;
}

bool is_letter_or_digit(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c >= 0x300 && c <= 0x36F) return true; // combining diacritical marks, as in a decomposed "é"
    locale_t loc = unicode_locale();
    if (!loc) return true; // no Unicode tables: count any non-ASCII character as a letter
    return iswalnum_l(static_cast<wint_t>(c), loc) != 0;
}

char32_t to_lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    locale_t loc = unicode_locale();
    return loc ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), loc)) : c;
}

void append_utf8(std::string &out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// Length of the well-formed UTF-8 sequence at text[i] and its code point; 0 when malformed.
size_t decode_at(std::string_view text, size_t i, char32_t &cp) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    size_t len;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0) len = 2, cp = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) len = 3, cp = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) len = 4, cp = b0 & 0x07, min = 0x10000;
    else return 0;
    if (i + len > text.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

struct Char {
    char32_t cp;
    size_t at; // byte offset
};

std::vector<Char> decode(std::string_view text) {
    std::vector<Char> out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        char32_t cp;
        size_t n = decode_at(text, i, cp);
        if (n == 0) { // not expected (the text was validated); keep going byte by byte
            cp = 0xFFFD;
            n = 1;
        }
        out.push_back({cp, i});
        i += n;
    }
    return out;
}

bool is_space(char32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
           c == 0x2028 || c == 0x2029 || c == 0x3000 || (c >= 0x2000 && c <= 0x200B);
}

bool ends_link(char32_t c) {
    return c < 0x20 || is_space(c) || c == '<' || c == '>' || c == '"' || c == '`' || c == '|' || c == '{' ||
           c == '}' || c == '\\' || c == '^';
}

bool starts_with_ci(const std::vector<Char> &cs, size_t i, std::string_view word) {
    if (i + word.size() > cs.size()) return false;
    for (size_t k = 0; k < word.size(); ++k)
        if (to_lower(cs[i + k].cp) != static_cast<char32_t>(word[k])) return false;
    return true;
}

template <class T>
void add_unique(std::vector<T> &items, T item) {
    if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
}

} // namespace

bool valid_utf8(std::string_view text, size_t &bad_offset) {
    for (size_t i = 0; i < text.size();) {
        char32_t cp;
        size_t n = decode_at(text, i, cp);
        if (n == 0) {
            bad_offset = i;
            return false;
        }
        i += n;
    }
    return true;
}

std::string lowercase(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const Char &c : decode(text)) append_utf8(out, to_lower(c.cp));
    return out;
}

Scanned scan_text(std::string_view text) {
    Scanned out;
    std::vector<Char> cs = decode(text);
    auto bytes = [&](size_t from, size_t to) { // [from, to) in characters → the UTF-8 text
        size_t b = cs[from].at, e = to < cs.size() ? cs[to].at : text.size();
        return std::string(text.substr(b, e - b));
    };
    std::vector<bool> in_link(cs.size(), false);

    // Links first: what is inside them is neither a tag nor a mention.
    for (size_t i = 0; i < cs.size(); ++i) {
        if (!(starts_with_ci(cs, i, "http://") || starts_with_ci(cs, i, "https://"))) continue;
        if (i > 0 && is_letter_or_digit(cs[i - 1].cp)) continue;
        size_t e = i;
        while (e < cs.size() && !ends_link(cs[e].cp)) ++e;
        // Trailing punctuation belongs to the sentence; a closing bracket stays if the link opened one.
        while (e > i) {
            char32_t last = cs[e - 1].cp;
            if (last == '.' || last == ',' || last == ';' || last == ':' || last == '!' || last == '?' ||
                last == '\'' || last == '*') {
                --e;
                continue;
            }
            if (last == ')' || last == ']') {
                char32_t open = last == ')' ? '(' : '[';
                int depth = 0;
                for (size_t k = i; k < e; ++k) depth += cs[k].cp == open ? 1 : cs[k].cp == last ? -1 : 0;
                if (depth < 0) {
                    --e;
                    continue;
                }
            }
            break;
        }
        size_t scheme_len = starts_with_ci(cs, i, "https://") ? 8 : 7;
        if (e <= i + scheme_len) continue; // "https://" alone
        add_unique(out.links, bytes(i, e));
        for (size_t k = i; k < e; ++k) in_link[k] = true;
        i = e - 1;
    }

    auto word_before = [&](size_t i) {
        if (i == 0) return false;
        char32_t p = cs[i - 1].cp;
        return is_letter_or_digit(p) || p == '_' || p == '&' || p == '#' || p == '@' || p == '/' || p == '.' ||
               p == '-';
    };

    for (size_t i = 0; i < cs.size(); ++i) {
        if (in_link[i]) continue;
        if (cs[i].cp == '#' && !word_before(i)) {
            size_t e = i + 1;
            while (e < cs.size() && !in_link[e] &&
                   (is_letter_or_digit(cs[e].cp) || cs[e].cp == '_' || cs[e].cp == '-'))
                ++e;
            while (e > i + 1 && cs[e - 1].cp == '-') --e;
            bool has_non_digit = false;
            for (size_t k = i + 1; k < e; ++k)
                if (!(cs[k].cp >= '0' && cs[k].cp <= '9')) has_non_digit = true;
            if (e > i + 1 && has_non_digit) add_unique(out.tags, lowercase(bytes(i + 1, e)));
            i = e - 1;
        } else if (cs[i].cp == '@' && !word_before(i)) {
            auto handle_char = [&](size_t k) {
                return k < cs.size() && !in_link[k] &&
                       (is_letter_or_digit(cs[k].cp) || cs[k].cp == '_' || cs[k].cp == '.' || cs[k].cp == '-');
            };
            size_t e = i + 1;
            while (handle_char(e)) ++e;
            // A fediverse handle: @user@domain.tld
            if (e > i + 1 && e < cs.size() && cs[e].cp == '@' && handle_char(e + 1)) {
                size_t d = e + 1;
                while (handle_char(d)) ++d;
                bool dotted = false;
                for (size_t k = e + 1; k < d; ++k) dotted |= cs[k].cp == '.';
                if (dotted) e = d;
            }
            while (e > i + 1 && (cs[e - 1].cp == '.' || cs[e - 1].cp == '-')) --e;
            bool has_alnum = false;
            for (size_t k = i + 1; k < e; ++k) has_alnum |= is_letter_or_digit(cs[k].cp);
            if (has_alnum) add_unique(out.mentions, bytes(i + 1, e));
            if (e > i + 1) i = e - 1;
        }
    }
    return out;
}

} // namespace relais::webhook
