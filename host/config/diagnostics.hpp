// Configuration mistakes, each with the file, line and column it was found at.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace relais {

struct Diagnostic {
    std::string file;
    int line = 0; // 1-based; 0 when unknown
    int column = 0;
    std::string message;

    std::string str() const;
};

class Diagnostics {
public:
    explicit Diagnostics(std::string file) : file_(std::move(file)) {}

    void error(const YAML::Mark &at, std::string message);
    void error(const YAML::Node &at, std::string message) { error(at.Mark(), std::move(message)); }
    void error_here(std::string message) { error(YAML::Mark::null_mark(), std::move(message)); }

    bool empty() const { return items_.empty(); }
    const std::vector<Diagnostic> &items() const { return items_; }
    const std::string &file() const { return file_; }

private:
    std::string file_;
    std::vector<Diagnostic> items_;
};

// The closest of `candidates` to `word` if it is close enough to be a likely typo, else empty.
std::string did_you_mean(const std::string &word, const std::vector<std::string> &candidates);
// " (did you mean 'x'?)" or "".
std::string suggestion(const std::string &word, const std::vector<std::string> &candidates);

} // namespace relais
