// charset.cpp — declared encodings to UTF-8: a table for Windows-1252/ISO-8859-1, glibc iconv for the rest.
#include "charset.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>

namespace relais::rss {
namespace {

// Windows-1252 bytes 0x80..0x9F; the other bytes are the same code points as ISO-8859-1. Unassigned bytes keep
// their C1 code point, as browsers do.
constexpr uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D,
    0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
    0x0153, 0x009D, 0x017E, 0x0178};

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

uint32_t cp1252(unsigned char b) { return b >= 0x80 && b < 0xA0 ? cp1252_high[b - 0x80] : b; }

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) n = 2, cp = b & 0x1F;
    else if (b >= 0xE0 && b <= 0xEF) n = 3, cp = b & 0x0F;
    else if (b >= 0xF0 && b <= 0xF4) n = 4, cp = b & 0x07;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

std::string lower(std::string s) {
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

} // namespace

std::string xml_declared_encoding(std::string_view body) {
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    if (body.substr(0, 5) != "<?xml") return {};
    size_t end = body.find("?>");
    std::string_view decl = body.substr(0, end == std::string_view::npos ? std::min<size_t>(body.size(), 200) : end);
    size_t at = decl.find("encoding");
    if (at == std::string_view::npos) return {};
    at = decl.find_first_of("\"'", at);
    if (at == std::string_view::npos) return {};
    size_t close = decl.find(decl[at], at + 1);
    if (close == std::string_view::npos) return {};
    return lower(std::string(decl.substr(at + 1, close - at - 1)));
}

bool looks_like_utf16_or_32(std::string_view b) {
    auto at = [&](size_t i) { return i < b.size() ? static_cast<unsigned char>(b[i]) : 0x100u; };
    if (at(0) == 0xFE && at(1) == 0xFF) return true;                                   // UTF-16 BE
    if (at(0) == 0xFF && at(1) == 0xFE) return true;                                   // UTF-16 LE, UTF-32 LE
    if (at(0) == 0 && at(1) == 0 && at(2) == 0xFE && at(3) == 0xFF) return true;       // UTF-32 BE
    if (at(0) == 0 && at(1) == '<') return true;                                       // UTF-16 BE, no BOM
    if (at(0) == '<' && at(1) == 0) return true;                                       // UTF-16 LE, no BOM
    if (at(0) == 0 && at(1) == 0 && at(2) == 0 && at(3) == '<') return true;           // UTF-32 BE, no BOM
    return false;
}

std::string cp1252_to_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 8);
    for (char c : bytes) append_utf8(out, cp1252(static_cast<unsigned char>(c)));
    return out;
}

bool iconv_to_utf8(std::string_view bytes, const std::string &encoding, std::string &out) {
    iconv_t cd = iconv_open("UTF-8", encoding.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return false;
    out.clear();
    std::string input(bytes);
    char *in = input.data();
    size_t in_left = input.size();
    char buffer[4096];
    bool ok = true;
    while (in_left > 0) {
        char *o = buffer;
        size_t o_left = sizeof buffer;
        size_t rc = iconv(cd, &in, &in_left, &o, &o_left);
        out.append(buffer, sizeof buffer - o_left);
        if (rc == static_cast<size_t>(-1) && errno != E2BIG) {
            ok = false;
            break;
        }
    }
    iconv_close(cd);
    return ok;
}

std::string repair_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        size_t n = utf8_sequence(bytes, i);
        if (n) {
            out.append(bytes.substr(i, n));
            i += n;
        } else {
            append_utf8(out, cp1252(static_cast<unsigned char>(bytes[i])));
            ++i;
        }
    }
    return out;
}

std::string content_type_charset(std::string_view content_type) {
    std::string lowered = lower(std::string(content_type));
    size_t at = lowered.find("charset=");
    if (at == std::string::npos) return {};
    std::string value = lowered.substr(at + 8);
    value = value.substr(0, value.find_first_of(";, \t"));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
        value = value.substr(1, value.size() - 2);
    return value;
}

std::string feed_to_utf8(std::string_view body, const std::string &http_charset) {
    std::string enc = xml_declared_encoding(body);
    if (enc.empty() && !http_charset.empty()) {
        // The XML declaration wins: it travels with the bytes. A server's charset is a default for a whole site,
        // often wrong: bytes that are valid UTF-8 are taken as UTF-8 whatever it says.
        std::string repaired = repair_utf8(body);
        if (repaired == body) return repaired;
        enc = lower(http_charset);
    }
    // A declared UTF-16/32 on 8-bit text means the declaration was not updated when the text was converted.
    bool wide = enc.rfind("utf-16", 0) == 0 || enc.rfind("utf-32", 0) == 0 || enc.rfind("ucs", 0) == 0;
    if (enc.empty() || enc == "utf-8" || enc == "utf8" || enc == "us-ascii" || enc == "ascii" || wide)
        return repair_utf8(body);
    if (enc == "iso-8859-1" || enc == "latin1" || enc == "latin-1" || enc == "l1" || enc == "iso8859-1" ||
        enc == "windows-1252" || enc == "cp1252" || enc == "x-cp1252")
        return cp1252_to_utf8(body);
    std::string out;
    if (!iconv_to_utf8(body, enc, out))
        throw std::runtime_error("the feed declares encoding \"" + enc +
                                 "\", which cannot be converted to UTF-8 (unknown encoding or invalid bytes)");
    return repair_utf8(out);
}

} // namespace relais::rss
