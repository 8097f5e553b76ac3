// Timers for plugins, run on a small pool of host threads. Cancelling a timer waits for a running callback, so
// after cancel() returns the callback neither runs nor will run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace relais {

class Timers {
public:
    explicit Timers(unsigned threads = 2);
    ~Timers();
    Timers(const Timers &) = delete;
    Timers &operator=(const Timers &) = delete;

    uint64_t start(uint64_t delay_ms, uint64_t interval_ms, std::function<void()> fn);
    void cancel(uint64_t id);
    void shutdown();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace relais
