// html_text.cpp — tag stripping, HTML entities, whitespace and truncation for feed text.
#include "html_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace relais::rss {
namespace {

struct Entity {
    const char *name;
    uint32_t cp;
};

// The HTML 4 named character references (and &apos;), sorted by name for binary search.
constexpr Entity entities[] = {
    {"AElig", 198},   {"Aacute", 193},  {"Acirc", 194},   {"Agrave", 192},   {"Alpha", 913},   {"Aring", 197},
    {"Atilde", 195},  {"Auml", 196},    {"Beta", 914},    {"Ccedil", 199},   {"Chi", 935},     {"Dagger", 8225},
    {"Delta", 916},   {"ETH", 208},     {"Eacute", 201},  {"Ecirc", 202},    {"Egrave", 200},  {"Epsilon", 917},
    {"Eta", 919},     {"Euml", 203},    {"Gamma", 915},   {"Iacute", 205},   {"Icirc", 206},   {"Igrave", 204},
    {"Iota", 921},    {"Iuml", 207},    {"Kappa", 922},   {"Lambda", 923},   {"Mu", 924},      {"Ntilde", 209},
    {"Nu", 925},      {"OElig", 338},   {"Oacute", 211},  {"Ocirc", 212},    {"Ograve", 210},  {"Omega", 937},
    {"Omicron", 927}, {"Oslash", 216},  {"Otilde", 213},  {"Ouml", 214},     {"Phi", 934},     {"Pi", 928},
    {"Prime", 8243},  {"Psi", 936},     {"Rho", 929},     {"Scaron", 352},   {"Sigma", 931},   {"THORN", 222},
    {"Tau", 932},     {"Theta", 920},   {"Uacute", 218},  {"Ucirc", 219},    {"Ugrave", 217},  {"Upsilon", 933},
    {"Uuml", 220},    {"Xi", 926},      {"Yacute", 221},  {"Yuml", 376},     {"Zeta", 918},    {"aacute", 225},
    {"acirc", 226},   {"acute", 180},   {"aelig", 230},   {"agrave", 224},   {"alefsym", 8501},{"alpha", 945},
    {"amp", 38},      {"and", 8743},    {"ang", 8736},    {"apos", 39},      {"aring", 229},   {"asymp", 8776},
    {"atilde", 227},  {"auml", 228},    {"bdquo", 8222},  {"beta", 946},     {"brvbar", 166},  {"bull", 8226},
    {"cap", 8745},    {"ccedil", 231},  {"cedil", 184},   {"cent", 162},     {"chi", 967},     {"circ", 710},
    {"clubs", 9827},  {"cong", 8773},   {"copy", 169},    {"crarr", 8629},   {"cup", 8746},    {"curren", 164},
    {"dArr", 8659},   {"dagger", 8224}, {"darr", 8595},   {"deg", 176},      {"delta", 948},   {"diams", 9830},
    {"divide", 247},  {"eacute", 233},  {"ecirc", 234},   {"egrave", 232},   {"empty", 8709},  {"emsp", 8195},
    {"ensp", 8194},   {"epsilon", 949}, {"equiv", 8801},  {"eta", 951},      {"eth", 240},     {"euml", 235},
    {"euro", 8364},   {"exist", 8707},  {"fnof", 402},    {"forall", 8704},  {"frac12", 189},  {"frac14", 188},
    {"frac34", 190},  {"frasl", 8260},  {"gamma", 947},   {"ge", 8805},      {"gt", 62},       {"hArr", 8660},
    {"harr", 8596},   {"hearts", 9829}, {"hellip", 8230}, {"iacute", 237},   {"icirc", 238},   {"iexcl", 161},
    {"igrave", 236},  {"image", 8465},  {"infin", 8734},  {"int", 8747},     {"iota", 953},    {"iquest", 191},
    {"isin", 8712},   {"iuml", 239},    {"kappa", 954},   {"lArr", 8656},    {"lambda", 955},  {"lang", 9001},
    {"laquo", 171},   {"larr", 8592},   {"lceil", 8968},  {"ldquo", 8220},   {"le", 8804},     {"lfloor", 8970},
    {"lowast", 8727}, {"loz", 9674},    {"lrm", 8206},    {"lsaquo", 8249},  {"lsquo", 8216},  {"lt", 60},
    {"macr", 175},    {"mdash", 8212},  {"micro", 181},   {"middot", 183},   {"minus", 8722},  {"mu", 956},
    {"nabla", 8711},  {"nbsp", 160},    {"ndash", 8211},  {"ne", 8800},      {"ni", 8715},     {"not", 172},
    {"notin", 8713},  {"nsub", 8836},   {"ntilde", 241},  {"nu", 957},       {"oacute", 243},  {"ocirc", 244},
    {"oelig", 339},   {"ograve", 242},  {"oline", 8254},  {"omega", 969},    {"omicron", 959}, {"oplus", 8853},
    {"or", 8744},     {"ordf", 170},    {"ordm", 186},    {"oslash", 248},   {"otilde", 245},  {"otimes", 8855},
    {"ouml", 246},    {"para", 182},    {"part", 8706},   {"permil", 8240},  {"perp", 8869},   {"phi", 966},
    {"pi", 960},      {"piv", 982},     {"plusmn", 177},  {"pound", 163},    {"prime", 8242},  {"prod", 8719},
    {"prop", 8733},   {"psi", 968},     {"quot", 34},     {"rArr", 8658},    {"radic", 8730},  {"rang", 9002},
    {"raquo", 187},   {"rarr", 8594},   {"rceil", 8969},  {"rdquo", 8221},   {"real", 8476},   {"reg", 174},
    {"rfloor", 8971}, {"rho", 961},     {"rlm", 8207},    {"rsaquo", 8250},  {"rsquo", 8217},  {"sbquo", 8218},
    {"scaron", 353},  {"sdot", 8901},   {"sect", 167},    {"shy", 173},      {"sigma", 963},   {"sigmaf", 962},
    {"sim", 8764},    {"spades", 9824}, {"sub", 8834},    {"sube", 8838},    {"sum", 8721},    {"sup", 8835},
    {"sup1", 185},    {"sup2", 178},    {"sup3", 179},    {"supe", 8839},    {"szlig", 223},   {"tau", 964},
    {"there4", 8756}, {"theta", 952},   {"thetasym", 977},{"thinsp", 8201},  {"thorn", 254},   {"tilde", 732},
    {"times", 215},   {"trade", 8482},  {"uArr", 8657},   {"uacute", 250},   {"uarr", 8593},   {"ucirc", 251},
    {"ugrave", 249},  {"uml", 168},     {"upsih", 978},   {"upsilon", 965},  {"uuml", 252},    {"weierp", 8472},
    {"xi", 958},      {"yacute", 253},  {"yen", 165},     {"yuml", 255},     {"zeta", 950},    {"zwj", 8205},
    {"zwnj", 8204},
};

// Windows-1252 meanings of &#128; … &#159;, as browsers decode them.
constexpr uint16_t c1_as_cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD,
    0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
    0x0153, 0xFFFD, 0x017E, 0x0178};

const Entity *find_entity(std::string_view name) {
    auto it = std::lower_bound(std::begin(entities), std::end(entities), name,
                               [](const Entity &e, std::string_view n) { return std::string_view(e.name) < n; });
    if (it == std::end(entities) || std::string_view(it->name) != name) return nullptr;
    return it;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Elements whose content is not text.
bool is_raw_text(std::string_view tag) {
    return tag == "script" || tag == "style" || tag == "template" || tag == "noscript" || tag == "iframe" ||
           tag == "object" || tag == "svg" || tag == "math" || tag == "head" || tag == "title";
}

// Inline elements: removing them must not separate the words around them.
bool is_inline(std::string_view tag) {
    static constexpr std::string_view inline_tags[] = {
        "a",   "abbr", "b",    "bdi",  "bdo",   "cite",  "code", "data",   "del",   "dfn", "em",
        "font", "i",   "ins",  "kbd",  "mark",  "q",     "s",    "samp",   "small", "span", "strike",
        "strong", "sub", "sup", "time", "tt",   "u",     "var",  "wbr"};
    return std::find(std::begin(inline_tags), std::end(inline_tags), tag) != std::end(inline_tags);
}

// Every HTML element name a feed title might carry; "<vector>" or "<T>" is not one of them.
bool is_known_html(std::string_view tag) {
    static constexpr std::string_view block_tags[] = {
        "address", "article", "aside", "blockquote", "body", "br",     "caption", "center", "dd",     "details",
        "div",     "dl",      "dt",    "figcaption", "figure", "footer", "h1",    "h2",     "h3",     "h4",
        "h5",      "h6",      "header", "hr",        "html",  "img",    "li",     "main",   "nav",    "ol",
        "p",       "picture", "pre",   "section",    "source", "summary", "table", "tbody", "td",     "tfoot",
        "th",      "thead",   "tr",    "ul",         "video", "audio",  "iframe", "script", "style",  "svg"};
    return is_inline(tag) ||
           std::find(std::begin(block_tags), std::end(block_tags), tag) != std::end(block_tags);
}

// Skips a tag starting at s[i] == '<'. Returns the index after '>' (quoted attribute values may hold '>').
size_t skip_tag(std::string_view s, size_t i) {
    char quote = 0;
    for (++i; i < s.size(); ++i) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return i + 1;
        }
    }
    return s.size();
}

// Finds "</tag" (any case) from i; returns its position or npos.
size_t find_close(std::string_view s, size_t i, std::string_view tag) {
    for (size_t at = s.find("</", i); at != std::string_view::npos; at = s.find("</", at + 2)) {
        if (at + 2 + tag.size() > s.size()) break;
        bool same = true;
        for (size_t k = 0; k < tag.size() && same; ++k) {
            char c = s[at + 2 + k];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            same = c == tag[k];
        }
        if (same) return at;
    }
    return std::string_view::npos;
}

} // namespace

void append_utf8(std::string &out, uint32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) cp = 0xFFFD;
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

std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        size_t semi = s.find(';', i + 1);
        if (semi == std::string_view::npos || semi - i > 40) {
            out += '&';
            continue;
        }
        std::string_view ref = s.substr(i + 1, semi - i - 1);
        if (ref.size() >= 2 && ref[0] == '#') {
            bool hex = ref[1] == 'x' || ref[1] == 'X';
            std::string_view digits = ref.substr(hex ? 2 : 1);
            uint32_t cp = 0;
            bool ok = !digits.empty() && digits.size() <= 8;
            for (char c : digits) {
                int d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
                else {
                    ok = false;
                    break;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
            }
            if (!ok) {
                out += '&';
                continue;
            }
            if (cp >= 0x80 && cp < 0xA0) cp = c1_as_cp1252[cp - 0x80];
            append_utf8(out, cp);
            i = semi;
        } else if (const Entity *e = find_entity(ref)) {
            append_utf8(out, e->cp);
            i = semi;
        } else {
            out += '&';
        }
    }
    return out;
}

std::string html_to_text(std::string_view s, Markup markup) {
    if (markup == Markup::text) return collapse_whitespace(s);
    std::string stripped;
    stripped.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (s[i] != '<') {
            stripped += s[i++];
            continue;
        }
        std::string_view rest = s.substr(i);
        if (rest.substr(0, 4) == "<!--") {
            size_t end = s.find("-->", i + 4);
            i = end == std::string_view::npos ? s.size() : end + 3;
            stripped += ' ';
            continue;
        }
        if (rest.substr(0, 9) == "<![CDATA[") {
            size_t end = s.find("]]>", i + 9);
            size_t stop = end == std::string_view::npos ? s.size() : end;
            stripped.append(s.substr(i + 9, stop - i - 9));
            i = end == std::string_view::npos ? s.size() : end + 3;
            continue;
        }
        bool closing = rest.size() > 1 && rest[1] == '/';
        size_t name_at = i + (closing ? 2 : 1);
        bool markup_decl = rest.size() > 1 && (rest[1] == '!' || rest[1] == '?');
        if (!markup_decl && (name_at >= s.size() || !is_alpha(s[name_at]))) {
            stripped += s[i++]; // a lone '<' is text
            continue;
        }
        size_t name_end = name_at;
        while (name_end < s.size() && (is_alnum(s[name_end]) || s[name_end] == '-' || s[name_end] == ':'))
            ++name_end;
        std::string tag = ascii_lower(s.substr(name_at, name_end - name_at));
        if (!markup_decl && markup == Markup::html_known && !is_known_html(tag)) {
            stripped += s[i++];
            continue;
        }
        size_t after = skip_tag(s, i);
        if (!closing && !markup_decl && is_raw_text(tag) && s.substr(i, after - i).find("/>") == std::string_view::npos) {
            size_t close = find_close(s, after, tag);
            after = close == std::string_view::npos ? s.size() : skip_tag(s, close);
        }
        if (markup_decl || !is_inline(tag)) stripped += ' ';
        i = after;
    }
    return collapse_whitespace(decode_entities(stripped));
}

std::string collapse_whitespace(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool pending_space = false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool space = is_space(s[i]);
        size_t width = 1;
        if (!space && s.substr(i, 2) == "\xC2\xA0") space = true, width = 2;           // U+00A0 no-break space
        else if (!space && (s.substr(i, 3) == "\xE2\x80\xAF" || s.substr(i, 3) == "\xE2\x80\x89" ||
                            s.substr(i, 3) == "\xE2\x80\xA8" || s.substr(i, 3) == "\xE2\x80\xA9"))
            space = true, width = 3; // narrow no-break, thin space, line and paragraph separators
        if (space) {
            pending_space = !out.empty();
            i += width - 1;
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += s[i];
    }
    return out;
}

std::string truncate_text(std::string_view s, size_t max_chars) {
    size_t chars = 0, cut = std::string_view::npos;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue; // continuation byte
        if (chars == max_chars) {
            cut = i;
            break;
        }
        ++chars;
    }
    if (cut == std::string_view::npos) return std::string(s);
    // Prefer ending at a space in the last fifth, so a word is not cut in two.
    size_t space = s.rfind(' ', cut);
    std::string_view head = s.substr(0, cut);
    if (space != std::string_view::npos && space > cut - cut / 5) head = s.substr(0, space);
    while (!head.empty() && (head.back() == ' ' || head.back() == ',' || head.back() == ';')) head.remove_suffix(1);
    return std::string(head) + "\xE2\x80\xA6"; // …
}

std::string to_lower(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out += (b >= 'A' && b <= 'Z') ? static_cast<char>(b - 'A' + 'a') : static_cast<char>(b);
            ++i;
            continue;
        }
        size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        if (n != 2 || i + 1 >= s.size()) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        uint32_t cp = ((b & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
        uint32_t lower = cp;
        if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
            (cp >= 0x410 && cp <= 0x42F))
            lower = cp + 0x20;
        else if (cp >= 0x400 && cp <= 0x40F) lower = cp + 0x50;
        else if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) lower = cp | 1;
        else if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) lower = (cp & 1) ? cp + 1 : cp;
        else if (cp == 0x178) lower = 0xFF;
        append_utf8(out, lower);
        i += 2;
    }
    return out;
}

} // namespace relais::rss
