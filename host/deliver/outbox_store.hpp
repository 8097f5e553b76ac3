// The durable side of delivery: one SQLite file (outbox.db, WAL) holding the deliveries not yet made, the parked
// ones (dead letters, and deliveries held for approval), the map of native ids across networks, and the keys seen for deduplication. Not thread-safe: one
// OutboxStore per thread (the daemon's writer thread, a delivery thread's reader, or the CLI).
#pragma once

#include "deliver/delivery.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace relais {

// Where a delivery that is not on its way waits: failed for good, or held until someone approves it.
enum class Shelf { dead, held };

struct StoredDelivery {
    int64_t seq = 0;
    std::string destination;
    DeliveryJob job;
    std::string last_error;
    int64_t enqueued_ms = 0;
    int64_t failed_ms = 0; // parked deliveries only: when they failed, or were held
};

struct SeenKey {
    std::string source, key;
};
struct IdKey {
    std::string source, source_native, destination;
};

class OutboxStore {
public:
    enum class Sync { normal, full };
    // Opens or creates the file. Throws std::runtime_error naming it on failure.
    OutboxStore(const std::string &path, Sync sync = Sync::normal);
    ~OutboxStore();
    OutboxStore(const OutboxStore &) = delete;
    OutboxStore &operator=(const OutboxStore &) = delete;

    // Copies what the log holds into the database file without waiting for readers or writers (WAL mode).
    void checkpoint();

    void begin();
    void commit();
    void rollback();

    // Inside a transaction.
    // `message_json`: the message already as message_to_json() writes it (made off the writer's thread), or null.
    int64_t enqueue(const std::string &destination, const DeliveryJob &job, int64_t now_ms,
                    const std::string *message_json = nullptr);
    void remove(int64_t seq);
    void record_attempt(int64_t seq, uint32_t attempts, const std::string &error);
    // Moves a delivery to the dead letters (a no-op when it is no longer in the outbox).
    void kill(int64_t seq, const std::string &reason, int64_t now_ms);
    // Parks a delivery until someone approves it; `reason` says why it needs approval.
    void hold(const std::string &destination, const DeliveryJob &job, const std::string &reason, int64_t now_ms);
    // Puts a parked delivery back at the end of its destination's outbox; returns its new seq, or 0 if unknown.
    int64_t revive(int64_t parked_seq, int64_t now_ms, Shelf shelf = Shelf::dead);
    bool drop_dead(int64_t parked_seq, Shelf shelf = Shelf::dead);
    // True when `key` from `source` was seen since `since_ms`; records it either way.
    bool seen_before(const std::string &source, const std::string &key, int64_t since_ms, int64_t now_ms);
    // What is older than its keeping time: keys seen before `before_ms`, id mappings made before it, among the
    // next `rows` keys after where the previous call stopped. `oldest_kept` is lowered to the oldest time among the
    // others; `end` tells that the table's end was reached (the next call starts over). Reading a slice at a time
    // keeps each look short however large the table; a connection of its own does it, off the writer's path (a
    // DELETE over a million keys held every commit 76 ms).
    std::vector<SeenKey> expired_seen(int64_t before_ms, size_t rows, int64_t &oldest_kept, bool &end);
    std::vector<IdKey> expired_ids(int64_t before_ms, size_t rows, int64_t &oldest_kept, bool &end);
    // Inside a transaction: removes those keys and mappings, unless renewed since (seen again, mapped again).
    void forget_seen(const std::vector<SeenKey> &keys, int64_t before_ms);
    void forget_ids(const std::vector<IdKey> &keys, int64_t before_ms);
    void map_ids(const std::string &source, const std::string &source_native, const std::string &destination,
                 const std::string &destination_native, const std::string &message_id, int64_t now_ms);

    // Reads.
    std::vector<StoredDelivery> pending(); // every destination, oldest first
    std::vector<StoredDelivery> dead_letters(size_t limit = 1000, Shelf shelf = Shelf::dead);
    std::optional<StoredDelivery> dead_letter(int64_t seq, Shelf shelf = Shelf::dead);
    // The native id on `destination` of the message known on `source` as `source_native`, mapped at
    // `since_ms` or later.
    std::optional<std::string> mapped_id(const std::string &source, const std::string &source_native,
                                         const std::string &destination, int64_t since_ms = INT64_MIN);
    // True when `native_id` on `instance` is a message Relais itself posted there (an echo of its own post), mapped
    // at `since_ms` or later.
    bool posted_by_us(const std::string &instance, const std::string &native_id, int64_t since_ms = INT64_MIN);
    // The instances that hold at least one post Relais made (and whose id it knows).
    std::vector<std::string> destinations_posted_to();

private:
    sqlite3_stmt *statement(const char *sql);
    static constexpr int busy_timeout_ms = 10'000;

    void upgrade();
    void upgrade_schema();
    void use_small_pages();
    template <class Key>
    std::vector<Key> expired_slice(const char *sql, Key &cursor, int64_t before_ms, size_t rows, int64_t &oldest_kept,
                                   bool &end);
    template <class Key> void forget(const char *sql, const std::vector<Key> &keys, int64_t before_ms);
    std::vector<StoredDelivery> read_rows(sqlite3_stmt *s, bool dead);
    void exec(const char *sql);
    int64_t integer(const char *sql); // the first column of the first row, or 0

    std::string path_;
    sqlite3 *db_ = nullptr;
    std::vector<std::pair<const char *, sqlite3_stmt *>> statements_;
    SeenKey seen_cursor_; // where the last expired_seen and expired_ids stopped
    IdKey ids_cursor_;
};

} // namespace relais
