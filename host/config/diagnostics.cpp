#include "config/diagnostics.hpp"

#include <algorithm>

namespace relais {

std::string Diagnostic::str() const {
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

void Diagnostics::error(const YAML::Mark &at, std::string message) {
    Diagnostic d{file_, 0, 0, std::move(message)};
    if (!at.is_null()) {
        d.line = at.line + 1;
        d.column = at.column + 1;
    }
    items_.push_back(std::move(d));
}

namespace {
size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}
} // namespace

std::string did_you_mean(const std::string &word, const std::vector<std::string> &candidates) {
    std::string best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto &c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

std::string suggestion(const std::string &word, const std::vector<std::string> &candidates) {
    std::string best = did_you_mean(word, candidates);
    return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

} // namespace relais
