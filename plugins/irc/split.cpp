// split.cpp — UTF-8-safe splitting of a message into IRC-sized pieces.
#include "split.hpp"

namespace relais::irc {

namespace {
bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

void split_one_line(std::string_view line, size_t max_bytes, std::vector<std::string> &out) {
    while (line.size() > max_bytes) {
        size_t cut = utf8_boundary(line, max_bytes);
        size_t space = line.substr(0, cut).rfind(' ');
        if (space != std::string_view::npos && space + 1 > cut / 2) cut = space + 1;
        out.emplace_back(line.substr(0, cut));
        line.remove_prefix(cut);
    }
    if (!line.empty()) out.emplace_back(line);
}
} // namespace

size_t utf8_boundary(std::string_view s, size_t max) {
    if (s.size() <= max) return s.size();
    if (max == 0) return s.empty() ? 0 : 1;
    size_t n = max;
    // s[n] is the first byte left out: back up while it continues the code point s[n-1] belongs to.
    for (int steps = 0; steps < 3 && n > 0 && continuation(static_cast<unsigned char>(s[n])); ++steps) --n;
    if (n == 0 || continuation(static_cast<unsigned char>(s[n]))) return max; // not UTF-8: cut where asked
    return n;
}

std::vector<std::string> split_text(std::string_view text, size_t max_bytes) {
    std::vector<std::string> out;
    if (max_bytes == 0) max_bytes = 1;
    std::string clean;
    clean.reserve(text.size());
    for (char c : text)
        if (c != '\0' && c != '\r') clean += c;
    std::string_view rest = clean;
    while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        split_one_line(line, max_bytes, out);
    }
    return out;
}

} // namespace relais::irc
