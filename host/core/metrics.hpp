// Counters and gauges, rendered in the Prometheus text format. A metric is registered once and then updated
// through a stable reference, so the path of a message costs one atomic add per metric.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace relais {

class Metric {
public:
    void add(double delta = 1) {
        double old = value_.load(std::memory_order_relaxed);
        while (!value_.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
        }
    }
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
public:
    enum class Type { counter, gauge };
    // Returns the metric for name+labels, creating it on first use. The reference stays valid.
    Metric &get(const std::string &name, const Labels &labels = {}, Type type = Type::counter,
                const std::string &help = {});
    Metric &counter(const std::string &name, const Labels &labels = {}, const std::string &help = {}) {
        return get(name, labels, Type::counter, help);
    }
    Metric &gauge(const std::string &name, const Labels &labels = {}, const std::string &help = {}) {
        return get(name, labels, Type::gauge, help);
    }
    double value(const std::string &name, const Labels &labels = {}) const;
    std::string prometheus() const;

private:
    struct Family {
        Type type = Type::counter;
        std::string help;
        std::map<std::string, Metric> series; // key: rendered label set
    };
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

} // namespace relais
