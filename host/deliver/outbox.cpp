#include "deliver/outbox.hpp"

#include <relais/message_json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace relais {

namespace {
int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
std::string id_key(const std::string &a, const std::string &b, const std::string &c = {}) {
    std::string k;
    k.reserve(a.size() + b.size() + c.size() + 2);
    k.append(a).push_back('\x1f');
    k.append(b).push_back('\x1f');
    k.append(c);
    return k;
}
// How long the outcomes of deliveries may wait to share a commit when no source is waiting. A crash in that
// window means a redelivery, which the delivery key makes harmless where the network honours it.
constexpr auto outcome_delay = std::chrono::milliseconds(20);
constexpr size_t cache_limit = 20'000; // for what was just delivered: older ids are read from the file
} // namespace

Outbox::Outbox(Settings settings, Metrics &metrics)
    : settings_(std::move(settings)), metrics_(metrics),
      commits_(metrics.counter("relais_outbox_commits_total", {}, "Outbox transactions (one holds many messages)")),
      stored_(metrics.counter("relais_outbox_stored_total", {}, "Deliveries stored in the outbox")),
      duplicates_(metrics.counter("relais_messages_duplicate_total", {},
                                  "Messages dropped as already seen within the deduplication window")),
      dead_letters_(metrics.counter("relais_dead_letters_total", {}, "Deliveries moved to the dead letters")),
      held_(metrics.counter("relais_held_total", {}, "Deliveries held until someone approves them")) {
    writer_store_ = std::make_unique<OutboxStore>(settings_.path, settings_.sync);
    reader_store_ = std::make_unique<OutboxStore>(settings_.path, settings_.sync);
    for (auto &instance : reader_store_->destinations_posted_to()) posted_to_.insert(std::move(instance));
}

Outbox::~Outbox() { stop(); }

std::vector<StoredDelivery> Outbox::recover() { return writer_store_->pending(); }

void Outbox::start(Dispatch dispatch) {
    dispatch_ = std::move(dispatch);
    writer_ = std::thread([this] { run(); });
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
}

void Outbox::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!writer_.joinable()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    checkpoint_wake_.notify_all();
    writer_idle_.notify_all();
    writer_.join();
    if (checkpointer_.joinable()) checkpointer_.join();
}

// Off the writer's path: the commits do not wait for the disk while the log is copied. A checkpoint that runs
// while commits go on cannot catch up with them, and SQLite restarts the log only once a checkpoint has copied all of
// it: under steady load the log would grow without end (370 MB in 8 s at 2,000 msg/s), and each checkpoint's sync
// with it. So each round is two passes: the bulk while the writer goes on, then what it wrote meanwhile (a few
// pages, two short syncs) with the writer held between two batches; its next commit starts the log from the top.
void Outbox::checkpoint_loop() {
    std::unique_ptr<OutboxStore> store;
    try {
        store = std::make_unique<OutboxStore>(settings_.path, settings_.sync);
    } catch (const std::exception &e) {
        spdlog::error("outbox {}: cannot open a connection to checkpoint the log: {}", settings_.path, e.what());
        return;
    }
    auto checkpoint = [&] {
        try {
            store->checkpoint();
        } catch (const std::exception &e) {
            spdlog::warn("outbox {}: checkpoint failed ({}); the log grows until the next one succeeds",
                         settings_.path, e.what());
        }
    };
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        checkpoint_wake_.wait_for(lock, settings_.checkpoint_every, [&] { return stopping_; });
        lock.unlock();
        find_expired(*store); // first: its reads end before the log is copied, so that it can restart after
        checkpoint();
        lock.lock();
        hold_writer_ = true;
        writer_idle_.wait(lock, [&] { return !writer_busy_ || stopping_; });
        lock.unlock();
        checkpoint();
        lock.lock();
        hold_writer_ = false;
        wake_.notify_all();
    }
}

// Reads a slice of each table, as many rows as were written since the last look (at least 1,000): a pass over a
// table takes about its keeping time at most, so it holds about twice what it keeps. A pass starts only once its
// oldest row can have expired: until then (a day after a start, for the keys) nothing is read at all. The writer
// then only deletes what expired, by key.
void Outbox::find_expired(OutboxStore &store) {
    const size_t rows = std::max<size_t>(1000, written_.exchange(0));
    const int64_t now = now_ms();
    ForgetOp op{{}, {}, now - settings_.dedupe_window.count(), now - settings_.id_map_retention.count()};
    try {
        bool end = false;
        if (seen_scan_.due(op.seen_before_ms, now)) {
            op.seen = store.expired_seen(op.seen_before_ms, rows, seen_scan_.pass_oldest, end);
            seen_scan_.after_slice(end);
        }
        if (settings_.id_map_retention.count() && ids_scan_.due(op.ids_before_ms, now)) {
            op.ids = store.expired_ids(op.ids_before_ms, rows, ids_scan_.pass_oldest, end);
            ids_scan_.after_slice(end);
        }
    } catch (const std::exception &e) {
        spdlog::warn("outbox {}: looking for expired keys failed ({}); they are looked for again in a second",
                     settings_.path, e.what());
        return;
    }
    if (!op.seen.empty() || !op.ids.empty()) push(std::move(op));
}

bool Outbox::ExpiryScan::due(int64_t before_ms, int64_t now) {
    if (in_pass) return true;
    if (before_ms <= oldest) return false; // nothing can have expired yet
    in_pass = true;
    pass_start = now;
    pass_oldest = INT64_MAX;
    return true;
}

void Outbox::ExpiryScan::after_slice(bool end) {
    if (!end) return;
    in_pass = false;
    oldest = std::min(pass_oldest, pass_start); // what the pass did not read was written after it started
}

void Outbox::push(Op op) {
    // A replay has a caller waiting; a dead letter is rare and someone may be about to look for it.
    const bool waited_on = std::holds_alternative<ReplayOp>(op) || std::holds_alternative<DeadOp>(op);
    bool first;
    {
        std::lock_guard lock(mutex_);
        first = ops_.empty();
        ops_.push_back(std::move(op));
        urgent_ = urgent_ || waited_on;
    }
    // Other outcomes can wait a few milliseconds and share a commit with the others: one wake-up of the writer
    // for many, not one a message.
    if (waited_on || first) wake_.notify_one();
}

Outbox::Result Outbox::store(const std::string &source, const std::string &dedupe_key, std::vector<Entry> entries) {
    std::promise<Result> stored;
    auto result = stored.get_future();
    store_async(source, dedupe_key, std::move(entries), [&stored](Result r) { stored.set_value(r); });
    return result.get();
}

void Outbox::store_async(const std::string &source, const std::string &dedupe_key, std::vector<Entry> entries,
                         StoreDone done) {
    std::vector<Keyed> one;
    one.push_back({dedupe_key, std::move(entries)});
    store_async(source, std::move(one), std::move(done));
}

void Outbox::store_async(const std::string &source, std::vector<Keyed> messages, StoreDone done) {
    for (auto &m : messages)
        for (auto &e : m.entries)
            if (e.held.empty() && e.message_json.empty()) e.message_json = message_to_json(e.job.message);
    {
        std::unique_lock lock(mutex_);
        if (!stopping_ && writer_.joinable()) {
            ops_.push_back(StoreOp{source, std::move(messages), std::move(done)});
            urgent_ = true; // a source waits for the commit
            lock.unlock();
            wake_.notify_one();
            return;
        }
    }
    done(Result::failed);
}

// On the writer thread: what a source's callback throws must not end it.
void Outbox::answer(StoreOp &op, Result result) {
    try {
        op.done(result);
    } catch (const std::exception &e) {
        spdlog::error("outbox: telling {} that its message was stored failed: {}", op.source, e.what());
    }
}

void Outbox::delivered(const DeliveryJob &job, const std::string &destination, const std::string &native_id) {
    const Message &m = job.message;
    bool map = !native_id.empty() && !m.native_id.empty();
    if (!native_id.empty()) {
        const int64_t now = now_ms();
        std::lock_guard lock(cache_mutex_);
        if (recent_ids_.size() > cache_limit) recent_ids_.clear();
        if (recent_posts_.size() > cache_limit) recent_posts_.clear();
        if (map) recent_ids_[id_key(m.source, m.native_id, destination)] = {native_id, now};
        recent_posts_[id_key(destination, native_id)] = now;
        posted_to_.insert(destination);
    }
    push(DeliveredOp{job.seq, map || !native_id.empty() ? m.source : std::string(),
                     m.native_id.empty() ? "relais:" + m.id : m.native_id, destination, native_id, m.id});
}

void Outbox::attempted(const DeliveryJob &job) { push(AttemptOp{job.seq, job.attempts, job.last_error}); }

void Outbox::dead(const DeliveryJob &job, const std::string &reason) {
    dead_letters_.add();
    push(DeadOp{job.seq, reason});
}

int64_t Outbox::mapped_since_ms() const {
    return settings_.id_map_retention.count() ? now_ms() - settings_.id_map_retention.count() : INT64_MIN;
}

std::optional<std::string> Outbox::mapped_id(const std::string &source, const std::string &source_native,
                                             const std::string &destination) {
    if (source_native.empty()) return std::nullopt;
    const int64_t since = mapped_since_ms();
    {
        std::lock_guard lock(cache_mutex_);
        auto it = recent_ids_.find(id_key(source, source_native, destination));
        if (it != recent_ids_.end() && it->second.mapped_ms >= since) return it->second.native_id;
    }
    std::lock_guard lock(reader_mutex_);
    return reader_store_->mapped_id(source, source_native, destination, since);
}

bool Outbox::posted_by_us(const std::string &instance, const std::string &native_id) {
    if (native_id.empty()) return false;
    const int64_t since = mapped_since_ms();
    {
        std::lock_guard lock(cache_mutex_);
        // A source Relais never posted to (an inbound webhook, a feed) needs no look-up at all.
        if (!posted_to_.count(instance)) return false;
        auto it = recent_posts_.find(id_key(instance, native_id));
        if (it != recent_posts_.end() && it->second >= since) return true;
    }
    std::lock_guard lock(reader_mutex_);
    return reader_store_->posted_by_us(instance, native_id, since);
}

std::vector<StoredDelivery> Outbox::dead_letters(Shelf shelf) {
    std::lock_guard lock(reader_mutex_);
    return reader_store_->dead_letters(1000, shelf);
}

std::optional<StoredDelivery> Outbox::dead_letter(int64_t seq, Shelf shelf) {
    std::lock_guard lock(reader_mutex_);
    return reader_store_->dead_letter(seq, shelf);
}

bool Outbox::replay(int64_t seq, Shelf shelf) {
    ReplayOp op{seq, shelf, false, {}};
    auto done = op.done.get_future();
    push(std::move(op));
    return done.get();
}

bool Outbox::drop(int64_t seq, Shelf shelf) {
    ReplayOp op{seq, shelf, true, {}};
    auto done = op.done.get_future();
    push(std::move(op));
    return done.get();
}

void Outbox::run() {
    std::vector<Op> batch;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            if (writer_busy_) {
                writer_busy_ = false;
                writer_idle_.notify_all();
            }
            wake_.wait(lock, [&] { return stopping_ || (!ops_.empty() && !hold_writer_); });
            if (!urgent_ && !stopping_) // outcomes only: gather those of the next few milliseconds too
                wake_.wait_for(lock, outcome_delay, [&] { return stopping_ || urgent_ || ops_.size() >= 1024; });
            if (hold_writer_ && !stopping_) continue; // the checkpointer asked meanwhile: let it finish first
            urgent_ = false;
            if (ops_.empty() && stopping_) return;
            writer_busy_ = true;
            batch.clear();
            while (!ops_.empty()) {
                batch.push_back(std::move(ops_.front()));
                ops_.pop_front();
            }
        }
        const int64_t now = now_ms();
        std::vector<std::pair<std::string, DeliveryJob>> to_dispatch;
        std::vector<Result> results(batch.size(), Result::stored);
        std::vector<bool> replayed(batch.size(), false);
        std::vector<size_t> repeated(batch.size(), 0);
        size_t written = 0; // keys seen and ids mapped: told find_expired once, after the commit
        try {
            writer_store_->begin();
            for (size_t i = 0; i < batch.size(); ++i) {
                Op &op = batch[i];
                if (auto *s = std::get_if<StoreOp>(&op)) {
                    size_t repeats = 0;
                    for (auto &m : s->messages) {
                        written += !m.dedupe_key.empty();
                        if (!m.dedupe_key.empty() &&
                            writer_store_->seen_before(s->source, m.dedupe_key, now - settings_.dedupe_window.count(),
                                                       now)) {
                            ++repeats;
                            continue;
                        }
                        for (auto &e : m.entries) {
                            if (!e.held.empty()) {
                                writer_store_->hold(e.destination, e.job, e.held, now);
                                held_.add();
                                spdlog::info("message {} for {} is held for approval: {} (see `relais held list`)",
                                             e.job.message.id, e.destination, e.held);
                                continue;
                            }
                            e.job.seq = writer_store_->enqueue(e.destination, e.job, now, &e.message_json);
                            to_dispatch.emplace_back(e.destination, e.job);
                        }
                    }
                    repeated[i] = repeats;
                    if (repeats && repeats == s->messages.size()) results[i] = Result::duplicate;
                } else if (auto *d = std::get_if<DeliveredOp>(&op)) {
                    writer_store_->remove(d->seq);
                    if (!d->destination_native.empty() && !d->source.empty()) {
                        writer_store_->map_ids(d->source, d->source_native, d->destination, d->destination_native,
                                               d->message_id, now);
                        ++written;
                    }
                } else if (auto *a = std::get_if<AttemptOp>(&op)) {
                    writer_store_->record_attempt(a->seq, a->attempts, a->error);
                } else if (auto *k = std::get_if<DeadOp>(&op)) {
                    writer_store_->kill(k->seq, k->reason, now);
                } else if (auto *f = std::get_if<ForgetOp>(&op)) {
                    writer_store_->forget_seen(f->seen, f->seen_before_ms);
                    writer_store_->forget_ids(f->ids, f->ids_before_ms);
                } else if (auto *r = std::get_if<ReplayOp>(&op)) {
                    if (r->drop_only) {
                        replayed[i] = writer_store_->drop_dead(r->seq, r->shelf);
                    } else if (auto dead = writer_store_->dead_letter(r->seq, r->shelf)) {
                        int64_t seq = writer_store_->revive(r->seq, now, r->shelf);
                        dead->job.seq = seq;
                        dead->job.attempts = 0;
                        to_dispatch.emplace_back(dead->destination, dead->job);
                        replayed[i] = seq != 0;
                    }
                }
            }
            writer_store_->commit();
            commits_.add();
            written_ += written;
        } catch (const std::exception &e) {
            writer_store_->rollback();
            spdlog::error("outbox {}: {}; the messages of this batch were not accepted (their sources keep them)",
                          settings_.path, e.what());
            for (auto &op : batch) {
                if (auto *s = std::get_if<StoreOp>(&op)) answer(*s, Result::failed);
                if (auto *r = std::get_if<ReplayOp>(&op)) r->done.set_value(false);
            }
            continue;
        }
        stored_.add(static_cast<double>(to_dispatch.size()));
        for (auto &[dest, job] : to_dispatch) dispatch_(dest, std::move(job));
        for (size_t i = 0; i < batch.size(); ++i) {
            if (auto *s = std::get_if<StoreOp>(&batch[i])) {
                duplicates_.add(static_cast<double>(repeated[i]));
                answer(*s, results[i]);
            }
            if (auto *r = std::get_if<ReplayOp>(&batch[i])) r->done.set_value(replayed[i]);
        }
    }
}

} // namespace relais
