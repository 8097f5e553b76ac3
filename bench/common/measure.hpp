// Clocks, percentiles and number formatting shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

namespace relais::bench {

// CPU time of the calling thread: what "per core" means on a shared machine, where wall time also counts the
// time other processes held the core.
inline double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline double wall_seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Stopwatch {
    double wall0 = wall_seconds(), cpu0 = thread_cpu_seconds();
    double wall() const { return wall_seconds() - wall0; }
    double cpu() const { return thread_cpu_seconds() - cpu0; }
};

// The p-th percentile (0..100) by the nearest-rank method; 0 for no samples.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

inline double median(std::vector<double> v) { return percentile(std::move(v), 50); }

// 1234567.8 → "1,234,568"
inline std::string grouped(double value) {
    long long n = std::llround(value);
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

inline std::string fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

// The 1-, 5- and 15-minute load averages, and the number of cores: how busy the shared machine was.
inline std::string machine_load() {
    std::ifstream f("/proc/loadavg");
    double a = 0, b = 0, c = 0;
    f >> a >> b >> c;
    return "load average " + fixed(a, 2) + " " + fixed(b, 2) + " " + fixed(c, 2) + " on " +
           std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

// Bytes this process has written with write() and the like so far (wchar in /proc/self/io), 0 if unknown.
inline uint64_t bytes_written() {
    std::ifstream f("/proc/self/io");
    std::string key;
    uint64_t value = 0;
    while (f >> key >> value)
        if (key == "wchar:") return value;
    return 0;
}

// Resident memory of this process (VmHWM: the peak), in MiB.
inline double peak_resident_mib() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

} // namespace relais::bench
