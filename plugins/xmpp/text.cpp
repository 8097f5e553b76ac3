// text.cpp — splitting, cutting and scanning message text.
#include "text.hpp"

#include <algorithm>

namespace relais::xmpp {

namespace {
bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
bool word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c >= 0x80;
}
} // namespace

std::string cut_utf8(const std::string &text, size_t max) {
    if (text.size() <= max) return text;
    size_t end = max;
    while (end > 0 && continuation(static_cast<unsigned char>(text[end]))) --end;
    return text.substr(0, end);
}

std::vector<std::string> split_text(const std::string &text, size_t max) {
    std::vector<std::string> pieces;
    if (max < 4) max = 4; // room for one code point
    size_t pos = 0;
    while (text.size() - pos > max) {
        size_t end = pos + max;
        while (end > pos + 1 && continuation(static_cast<unsigned char>(text[end]))) --end;
        // Prefer a line break, then a space, in the second half of the piece: the cut falls between words.
        size_t half = pos + (end - pos) / 2;
        size_t brk = text.rfind('\n', end - 1);
        if (brk == std::string::npos || brk < half) brk = text.rfind(' ', end - 1);
        if (brk != std::string::npos && brk >= half && brk >= pos) end = brk + 1;
        pieces.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    if (pos < text.size() || pieces.empty()) pieces.push_back(text.substr(pos));
    return pieces;
}

std::vector<std::string> hashtags(std::string_view text) {
    std::vector<std::string> tags;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '#') continue;
        if (i > 0 && word_byte(static_cast<unsigned char>(text[i - 1])) && text[i - 1] != '-') continue;
        size_t j = i + 1;
        while (j < text.size() && word_byte(static_cast<unsigned char>(text[j]))) ++j;
        std::string tag(text.substr(i + 1, j - i - 1));
        while (!tag.empty() && tag.back() == '-') tag.pop_back();
        if (tag.empty() || std::all_of(tag.begin(), tag.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
        for (char &c : tag)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
        i = j - 1;
    }
    return tags;
}

} // namespace relais::xmpp
