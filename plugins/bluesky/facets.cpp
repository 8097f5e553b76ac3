#include "facets.hpp"

#include <algorithm>
#include <cctype>

namespace bluesky {

namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
bool at_word_start(std::string_view text, size_t i) { return i == 0 || is_space(text[i - 1]) || text[i - 1] == '('; }

// The end of the run of non-space bytes from `i`.
size_t run_end(std::string_view text, size_t i) {
    while (i < text.size() && !is_space(static_cast<unsigned char>(text[i]))) ++i;
    return i;
}

// Drops trailing ASCII punctuation that ends a sentence rather than the thing itself.
size_t trim_trailing(std::string_view text, size_t start, size_t end, std::string_view punctuation) {
    while (end > start && punctuation.find(text[end - 1]) != std::string_view::npos) {
        if (text[end - 1] == ')' && std::count(text.begin() + start, text.begin() + end, '(') >
                                        std::count(text.begin() + start, text.begin() + end - 1, ')'))
            break; // a closing parenthesis the URL opened belongs to it
        --end;
    }
    return end;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

} // namespace

bool is_valid_handle(std::string_view handle) {
    if (handle.empty() || handle.size() > 253) return false;
    size_t labels = 0, start = 0;
    while (start <= handle.size()) {
        size_t dot = handle.find('.', start);
        std::string_view label = handle.substr(start, dot == std::string_view::npos ? handle.npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
        ++labels;
        if (dot == std::string_view::npos) return labels >= 2 && !std::isdigit(static_cast<unsigned char>(label[0]));
        start = dot + 1;
    }
    return false;
}

std::vector<FacetSpan> find_facets(std::string_view text) {
    std::vector<FacetSpan> out;
    size_t i = 0;
    while (i < text.size()) {
        if (!at_word_start(text, i)) {
            ++i;
            continue;
        }
        if (text[i] == '(') { // "(see https://…)": what follows the parenthesis starts a word
            ++i;
            continue;
        }
        size_t end = run_end(text, i);
        if (starts_with_ci(text.substr(i), "https://") || starts_with_ci(text.substr(i), "http://")) {
            size_t e = trim_trailing(text, i, end, ".,;:!?\"')");
            size_t scheme = text.find("://", i) + 3;
            if (e > scheme) out.push_back({FacetSpan::Kind::link, i, e, std::string(text.substr(i, e - i))});
        } else if (text[i] == '@') {
            size_t e = trim_trailing(text, i + 1, end, ".,;:!?\"')");
            std::string handle(text.substr(i + 1, e - i - 1));
            if (is_valid_handle(handle)) {
                std::transform(handle.begin(), handle.end(), handle.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                out.push_back({FacetSpan::Kind::mention, i, e, handle});
            }
        } else if (text[i] == '#') {
            size_t e = trim_trailing(text, i + 1, end, ".,;:!?\"')");
            std::string_view tag = text.substr(i + 1, e - i - 1);
            bool all_digits = std::all_of(tag.begin(), tag.end(), [](char c) { return c >= '0' && c <= '9'; });
            size_t characters = std::count_if(tag.begin(), tag.end(), [](char c) { return (c & 0xC0) != 0x80; });
            if (!tag.empty() && !all_digits && characters <= 64)
                out.push_back({FacetSpan::Kind::tag, i, e, std::string(tag)});
        }
        i = end;
    }
    return out;
}

} // namespace bluesky
