// The durable outbox. A message is accepted only once its deliveries are stored (several sources' messages share
// one commit: group commit); a delivery leaves the outbox only when its destination says it was delivered, or
// becomes a dead letter. One writer thread owns every write, so stored order is delivery order.
#pragma once

#include "core/metrics.hpp"
#include "deliver/outbox_store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace relais {

class Outbox {
public:
    struct Settings {
        std::string path;
        OutboxStore::Sync sync = OutboxStore::Sync::normal;
        std::chrono::milliseconds dedupe_window{24 * 3600 * 1000};
        // How often the log is copied into the file and restarted, and a slice of the keys and mappings is looked
        // through for expired ones.
        std::chrono::milliseconds checkpoint_every{1000};
        // How long a mapping of ids across networks is kept (replies, edits and echoes of older posts are no longer
        // recognised); 0: for ever.
        std::chrono::milliseconds id_map_retention{90LL * 24 * 3600 * 1000};
    };
    // Called by the writer thread, after commit, for each stored delivery, in stored order.
    using Dispatch = std::function<void(const std::string &destination, DeliveryJob job)>;

    enum class Result { stored, duplicate, failed };
    struct Entry {
        Entry(std::string destination, DeliveryJob job, std::string held = {})
            : destination(std::move(destination)), job(std::move(job)), held(std::move(held)) {}
        std::string destination;
        DeliveryJob job;
        std::string held; // non-empty: parked until approved, and why
        std::string message_json; // filled by store_async on the caller's thread: less work for the one writer
    };

    Outbox(Settings settings, Metrics &metrics);
    ~Outbox();

    // The deliveries a previous run left, oldest first. Call before start().
    std::vector<StoredDelivery> recover();
    void start(Dispatch dispatch);
    void stop();

    // Stores a message's deliveries durably; blocks until committed. `dedupe_key` empty: no deduplication.
    Result store(const std::string &source, const std::string &dedupe_key, std::vector<Entry> entries);
    // The same without waiting: `done` runs on the writer thread after the commit (or at once when stopping).
    using StoreDone = std::function<void(Result)>;
    void store_async(const std::string &source, const std::string &dedupe_key, std::vector<Entry> entries,
                     StoreDone done);
    // Several messages of one source, in order, in the same commit: all stored or none. The result is
    // `duplicate` only when every one of them was.
    struct Keyed {
        std::string dedupe_key;
        std::vector<Entry> entries;
    };
    void store_async(const std::string &source, std::vector<Keyed> messages, StoreDone done);

    // Outcomes, from delivery threads; written asynchronously (a crash before the write means a redelivery,
    // which the delivery key makes harmless).
    void delivered(const DeliveryJob &job, const std::string &destination, const std::string &native_id);
    void attempted(const DeliveryJob &job);
    void dead(const DeliveryJob &job, const std::string &reason);

    std::optional<std::string> mapped_id(const std::string &source, const std::string &source_native,
                                         const std::string &destination);
    bool posted_by_us(const std::string &instance, const std::string &native_id);

    // Dead letters and held deliveries (the admin API and the CLI).
    std::vector<StoredDelivery> dead_letters(Shelf shelf = Shelf::dead);
    std::optional<StoredDelivery> dead_letter(int64_t seq, Shelf shelf = Shelf::dead);
    // Moves a parked delivery back into the outbox and dispatches it (a dead letter replayed, a held one
    // approved); false when there is no such delivery on that shelf.
    bool replay(int64_t seq, Shelf shelf = Shelf::dead);
    bool drop(int64_t seq, Shelf shelf = Shelf::dead);

private:
    struct StoreOp {
        std::string source;
        std::vector<Keyed> messages;
        StoreDone done;
    };
    struct DeliveredOp {
        int64_t seq;
        std::string source, source_native, destination, destination_native, message_id;
    };
    struct AttemptOp {
        int64_t seq;
        uint32_t attempts;
        std::string error;
    };
    struct DeadOp {
        int64_t seq;
        std::string reason;
    };
    struct ForgetOp { // expired keys and mappings the checkpointer found
        std::vector<SeenKey> seen;
        std::vector<IdKey> ids;
        int64_t seen_before_ms, ids_before_ms;
    };
    struct ReplayOp {
        int64_t seq;
        Shelf shelf;
        bool drop_only;
        std::promise<bool> done;
    };
    using Op = std::variant<StoreOp, DeliveredOp, AttemptOp, DeadOp, ForgetOp, ReplayOp>;

    void run();
    void answer(StoreOp &op, Result result);
    void checkpoint_loop();
    void find_expired(OutboxStore &store);
    void push(Op op);

    Settings settings_;
    Metrics &metrics_;
    Metric &commits_, &stored_, &duplicates_, &dead_letters_, &held_;
    std::unique_ptr<OutboxStore> writer_store_, reader_store_;
    std::mutex reader_mutex_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Op> ops_;
    bool stopping_ = false;
    bool urgent_ = false; // someone waits for an op in ops_: write now
    // The checkpointer's last pass wants the writer between batches, so that the log can restart.
    bool hold_writer_ = false;
    bool writer_busy_ = false; // a batch is being written
    std::atomic<size_t> written_{0}; // keys seen and ids mapped since find_expired last looked
    // find_expired's progress through one table (the checkpointer's thread only).
    struct ExpiryScan {
        int64_t oldest = INT64_MIN; // no row is older: until it expires, no pass is needed (unknown at start)
        bool in_pass = false;
        int64_t pass_start = 0, pass_oldest = INT64_MAX;
        bool due(int64_t before_ms, int64_t now); // read a slice now? (starts a pass when one is needed)
        void after_slice(bool end);
    };
    ExpiryScan seen_scan_, ids_scan_;
    std::condition_variable writer_idle_;
    std::thread writer_;
    std::thread checkpointer_;
    std::condition_variable checkpoint_wake_;
    Dispatch dispatch_;

    // The oldest mapping still used: none older than id_map_retention answers, from the file or the caches below.
    int64_t mapped_since_ms() const;
    // Recent id mappings, so a reply right after its original finds it before the write is committed; with when
    // they were made.
    struct RecentId {
        std::string native_id;
        int64_t mapped_ms;
    };
    std::mutex cache_mutex_;
    std::unordered_map<std::string, RecentId> recent_ids_;
    std::unordered_map<std::string, int64_t> recent_posts_;
    std::unordered_set<std::string> posted_to_; // instances that ever gave Relais an id for a post it made there
};

} // namespace relais
