#include "core/timers.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace asio = boost::asio;

namespace relais {

struct Timers::Impl {
    struct Entry {
        explicit Entry(asio::io_context &io) : timer(io) {}
        std::recursive_mutex run_mutex; // held while the callback runs; cancel() takes it to wait
        bool cancelled = false;
        uint64_t interval_ms = 0;
        std::function<void()> fn;
        asio::steady_timer timer;
    };

    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::vector<std::thread> threads;
    std::mutex mutex;
    std::map<uint64_t, std::shared_ptr<Entry>> entries;
    uint64_t next_id = 0;

    void arm(const std::shared_ptr<Entry> &e, uint64_t delay_ms, uint64_t id) {
        e->timer.expires_after(std::chrono::milliseconds(delay_ms));
        e->timer.async_wait([this, e, id](const boost::system::error_code &ec) {
            if (ec) return;
            std::lock_guard run(e->run_mutex);
            if (e->cancelled) return;
            e->fn();
            if (e->cancelled) return;
            if (e->interval_ms) arm(e, e->interval_ms, id);
            else {
                std::lock_guard lock(mutex);
                entries.erase(id);
            }
        });
    }
};

Timers::Timers(unsigned threads) : impl_(std::make_unique<Impl>()) {
    for (unsigned i = 0; i < threads; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
}

Timers::~Timers() { shutdown(); }

uint64_t Timers::start(uint64_t delay_ms, uint64_t interval_ms, std::function<void()> fn) {
    auto e = std::make_shared<Impl::Entry>(impl_->io);
    e->interval_ms = interval_ms;
    e->fn = std::move(fn);
    uint64_t id;
    {
        std::lock_guard lock(impl_->mutex);
        id = ++impl_->next_id;
        impl_->entries[id] = e;
    }
    impl_->arm(e, delay_ms, id);
    return id;
}

void Timers::cancel(uint64_t id) {
    std::shared_ptr<Impl::Entry> e;
    {
        std::lock_guard lock(impl_->mutex);
        auto it = impl_->entries.find(id);
        if (it == impl_->entries.end()) return;
        e = it->second;
        impl_->entries.erase(it);
    }
    std::lock_guard run(e->run_mutex);
    e->cancelled = true;
    asio::post(impl_->io, [e] { e->timer.cancel(); });
}

void Timers::shutdown() {
    if (impl_->threads.empty()) return;
    std::map<uint64_t, std::shared_ptr<Impl::Entry>> all;
    {
        std::lock_guard lock(impl_->mutex);
        all.swap(impl_->entries);
    }
    for (auto &[id, e] : all) {
        std::lock_guard run(e->run_mutex); // waits for a running callback
        e->cancelled = true;
    }
    impl_->work.reset();
    impl_->io.stop();
    for (auto &t : impl_->threads) t.join();
    impl_->threads.clear();
}

} // namespace relais
