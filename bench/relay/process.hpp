// Child processes (the daemon, ngIRCd), free ports, and what /proc says about a process's memory and CPU time.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace relais::bench {

uint16_t free_port();
// True once 127.0.0.1:port accepts a connection, false after timeout_s.
bool wait_listening(uint16_t port, double timeout_s);
// A fresh folder under $TMPDIR (or /tmp), removed by remove_tree.
std::string make_temp_dir(const std::string &prefix);
void remove_tree(const std::string &dir);
void write_file(const std::string &path, const std::string &text);
std::string read_file(const std::string &path);

// A child process with stdout and stderr in a log file; stopped with SIGTERM (then SIGKILL) when destroyed.
class Child {
public:
    Child(const std::vector<std::string> &argv, const std::string &log_path);
    ~Child();
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    // SIGTERM, up to timeout_s to exit, then SIGKILL. Returns the exit status (-1 when killed or unknown).
    int stop(double timeout_s = 10);

private:
    pid_t pid_ = -1;
    int status_ = -1;
    bool reaped_ = false;
};

struct ProcessFigures {
    double rss_mib = 0, hwm_mib = 0; // VmRSS, VmHWM (the kernel's own peak)
    double anon_mib = 0;             // RssAnon: the process's own memory, without the pages of shared libraries
    double cpu_s = 0;                // utime + stime
};
ProcessFigures read_process(pid_t pid);

// Samples VmRSS every few milliseconds on a thread of its own and keeps the highest.
class RssSampler {
public:
    explicit RssSampler(pid_t pid);
    ~RssSampler();
    double peak_mib() const { return peak_kib_.load() / 1024.0; }
    double peak_anon_mib() const { return peak_anon_kib_.load() / 1024.0; }

private:
    pid_t pid_;
    std::atomic<bool> stop_{false};
    std::atomic<long> peak_kib_{0}, peak_anon_kib_{0};
    std::thread thread_;
};

} // namespace relais::bench
