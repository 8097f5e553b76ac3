#include "core/metrics.hpp"

#include <cmath>
#include <sstream>

namespace relais {

namespace {
std::string render_labels(const Labels &labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ",";
        out += labels[i].first + "=\"";
        for (char c : labels[i].second) {
            if (c == '\\' || c == '"') out += '\\';
            if (c == '\n') {
                out += "\\n";
                continue;
            }
            out += c;
        }
        out += "\"";
    }
    return out + "}";
}
} // namespace

Metric &Metrics::get(const std::string &name, const Labels &labels, Type type, const std::string &help) {
    std::lock_guard lock(mutex_);
    Family &f = families_[name];
    if (f.series.empty()) {
        f.type = type;
        if (!help.empty()) f.help = help;
    }
    return f.series[render_labels(labels)];
}

double Metrics::value(const std::string &name, const Labels &labels) const {
    std::lock_guard lock(mutex_);
    auto f = families_.find(name);
    if (f == families_.end()) return 0;
    auto s = f->second.series.find(render_labels(labels));
    return s == f->second.series.end() ? 0 : s->second.value();
}

std::string Metrics::prometheus() const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    for (const auto &[name, f] : families_) {
        if (!f.help.empty()) out << "# HELP " << name << " " << f.help << "\n";
        out << "# TYPE " << name << (f.type == Type::counter ? " counter" : " gauge") << "\n";
        for (const auto &[labels, m] : f.series) {
            double v = m.value();
            out << name << labels << " ";
            if (std::floor(v) == v && std::abs(v) < 1e15) out << static_cast<long long>(v);
            else out << v;
            out << "\n";
        }
    }
    return out.str();
}

} // namespace relais
