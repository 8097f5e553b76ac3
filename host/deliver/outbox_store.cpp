#include "deliver/outbox_store.hpp"

#include <relais/message_json.hpp>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>
#include <type_traits>

namespace relais {

namespace {
// In `PRAGMA user_version`. 1: the outbox table without AUTOINCREMENT, whose sqlite_sequence row was one more page
// in the log of every commit. (A seq may then be given again once its delivery is gone: nothing refers to it then.)
// 2: id_map.mapped_ms, so that mappings older than host.delivery.id_map_retention can be forgotten.
constexpr int schema_version = 2;
// Every commit writes whole pages to the log. With 1 KiB pages a one-message commit writes about 6 KiB, not 23 KiB
// as with SQLite's default of 4 KiB, and each checkpoint has a quarter as much to sync: that sync is what set the
// relay's p99 under steady load.
constexpr int page_size = 1024;

const char *schema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY,
  destination TEXT NOT NULL,
  channel TEXT NOT NULL,
  route TEXT NOT NULL,
  delivery_key TEXT NOT NULL,
  message TEXT NOT NULL,
  rendered TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  enqueued_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  destination TEXT NOT NULL,
  channel TEXT NOT NULL,
  route TEXT NOT NULL,
  delivery_key TEXT NOT NULL,
  message TEXT NOT NULL,
  rendered TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  enqueued_ms INTEGER NOT NULL,
  failed_ms INTEGER NOT NULL,
  held INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS id_map (
  source TEXT NOT NULL,
  source_native TEXT NOT NULL,
  destination TEXT NOT NULL,
  destination_native TEXT NOT NULL,
  message_id TEXT NOT NULL,
  mapped_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (source, source_native, destination)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS id_map_by_destination ON id_map (destination, destination_native);
CREATE TABLE IF NOT EXISTS seen (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  seen_ms INTEGER NOT NULL,
  PRIMARY KEY (source, key)) WITHOUT ROWID;
)sql";

void bind_text(sqlite3_stmt *s, int i, const std::string &v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string text(sqlite3_stmt *s, int col) {
    auto *p = reinterpret_cast<const char *>(sqlite3_column_text(s, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
}
// Runs a statement that returns no rows, and resets it.
void run(sqlite3 *db, sqlite3_stmt *s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        throw std::runtime_error(std::string("outbox: ") + sqlite3_errmsg(db));
}
} // namespace

OutboxStore::OutboxStore(const std::string &path, Sync sync) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot open the outbox " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    try {
        exec(("PRAGMA page_size=" + std::to_string(page_size)).c_str()); // takes effect on a new file only
        exec("PRAGMA journal_mode=WAL");
        exec(sync == Sync::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        // No checkpoint on commit: they wait for the disk, and a commit that ran one held every source waiting on
        // it (the p99 of a relay went from under 1 ms to 15–20 ms). The daemon's outbox checkpoints on a thread of
        // its own (checkpoint()); a short-lived connection (the CLI) leaves it to SQLite's checkpoint on close.
        // 2 MiB of cache holds what the commits touch (the right-hand leaves and the inner pages of each table);
        // 8 MiB held the older rows too, for nothing, and made the relay's peak 4 MiB higher.
        exec("PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-2048; PRAGMA temp_store=MEMORY");
        upgrade();
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

int64_t OutboxStore::integer(const char *sql) {
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error("outbox " + path_ + ": " + sqlite3_errmsg(db_));
    int64_t value = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return value;
}

// Brings a file written by an earlier Relais to the current schema, in place; a file of a later one is refused.
void OutboxStore::upgrade() {
    if (integer("PRAGMA user_version") != schema_version) upgrade_schema();
    use_small_pages();
}

void OutboxStore::upgrade_schema() {
    exec("BEGIN IMMEDIATE");
    try { // what another process found may have changed meanwhile: read it again inside the transaction
        const int64_t version = integer("PRAGMA user_version");
        if (version > schema_version)
            throw std::runtime_error("outbox " + path_ + " was written by a newer Relais (schema " +
                                     std::to_string(version) + ", this one knows " + std::to_string(schema_version) +
                                     "): run that version, or move the file away to start with an empty outbox");
        const bool had_autoincrement = version == 0 && integer("SELECT count(*) FROM sqlite_master WHERE"
                                                               " name = 'outbox' AND sql LIKE '%AUTOINCREMENT%'");
        if (had_autoincrement) exec("ALTER TABLE outbox RENAME TO outbox_v0");
        exec(schema);
        if (had_autoincrement)
            exec("INSERT INTO outbox (seq, destination, channel, route, delivery_key, message, rendered, attempts,"
                 " last_error, enqueued_ms) SELECT seq, destination, channel, route, delivery_key, message, rendered,"
                 " attempts, last_error, enqueued_ms FROM outbox_v0;"
                 " DROP TABLE outbox_v0; DELETE FROM sqlite_sequence WHERE name IN ('outbox', 'outbox_v0')");
        // Files written before held deliveries existed: add the column they share the table with dead letters by.
        if (!integer("SELECT count(*) FROM pragma_table_info('dead_letters') WHERE name = 'held'"))
            exec("ALTER TABLE dead_letters ADD COLUMN held INTEGER NOT NULL DEFAULT 0");
        // Files before version 2: their mappings count as made now, and are kept a full retention from the
        // upgrade on. A constant default costs nothing however many rows there are (no row is rewritten).
        if (!integer("SELECT count(*) FROM pragma_table_info('id_map') WHERE name = 'mapped_ms'"))
            exec(("ALTER TABLE id_map ADD COLUMN mapped_ms INTEGER NOT NULL DEFAULT " +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()))
                     .c_str());
        if (version < schema_version)
            exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
        exec("COMMIT");
    } catch (...) {
        rollback();
        throw;
    }
}

// A file made with 4 KiB pages is rewritten once with small ones. That takes VACUUM outside WAL mode, so only
// while no other connection has the file open (a daemon's first one does); otherwise it keeps its pages for now.
void OutboxStore::use_small_pages() {
    if (integer("PRAGMA page_size") == page_size) return;
    sqlite3_busy_timeout(db_, 0);
    sqlite3_stmt *s = nullptr;
    sqlite3_prepare_v2(db_, "PRAGMA journal_mode=DELETE", -1, &s, nullptr);
    const bool alone = s && sqlite3_step(s) == SQLITE_ROW &&
                       sqlite3_stricmp(reinterpret_cast<const char *>(sqlite3_column_text(s, 0)), "delete") == 0;
    sqlite3_finalize(s);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    if (alone) {
        spdlog::info("outbox {}: rewriting it once with {}-byte pages (each commit then logs a quarter as much)",
                     path_, page_size);
        try {
            exec(("PRAGMA page_size=" + std::to_string(page_size) + "; VACUUM").c_str());
        } catch (const std::exception &e) {
            spdlog::warn("{}; it keeps its pages, and works as before", e.what());
        }
    }
    exec("PRAGMA journal_mode=WAL");
}

OutboxStore::~OutboxStore() {
    for (auto &[sql, s] : statements_) sqlite3_finalize(s);
    sqlite3_close(db_);
}

void OutboxStore::exec(const char *sql) {
    char *err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error("outbox " + path_ + ": " + msg);
    }
}

sqlite3_stmt *OutboxStore::statement(const char *sql) {
    for (auto &[text, s] : statements_)
        if (text == sql) return s;
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("outbox: ") + sqlite3_errmsg(db_));
    statements_.emplace_back(sql, s);
    return s;
}

void OutboxStore::checkpoint() { exec("PRAGMA wal_checkpoint(PASSIVE)"); }

void OutboxStore::begin() { exec("BEGIN IMMEDIATE"); }
void OutboxStore::commit() { exec("COMMIT"); }
void OutboxStore::rollback() { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

int64_t OutboxStore::enqueue(const std::string &destination, const DeliveryJob &job, int64_t now_ms,
                             const std::string *message_json) {
    auto *s = statement("INSERT INTO outbox (destination, channel, route, delivery_key, message, rendered, attempts,"
                        " enqueued_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    bind_text(s, 1, destination);
    bind_text(s, 2, job.channel);
    bind_text(s, 3, job.route);
    bind_text(s, 4, job.delivery_key);
    bind_text(s, 5, message_json ? *message_json : message_to_json(job.message));
    bind_text(s, 6, job.rendered);
    sqlite3_bind_int64(s, 7, job.attempts);
    sqlite3_bind_int64(s, 8, now_ms);
    run(db_, s);
    return sqlite3_last_insert_rowid(db_);
}

void OutboxStore::remove(int64_t seq) {
    auto *s = statement("DELETE FROM outbox WHERE seq = ?1");
    sqlite3_bind_int64(s, 1, seq);
    run(db_, s);
}

void OutboxStore::record_attempt(int64_t seq, uint32_t attempts, const std::string &error) {
    auto *s = statement("UPDATE outbox SET attempts = ?2, last_error = ?3 WHERE seq = ?1");
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, attempts);
    bind_text(s, 3, error);
    run(db_, s);
}

void OutboxStore::kill(int64_t seq, const std::string &reason, int64_t now_ms) {
    auto *s = statement("INSERT INTO dead_letters (destination, channel, route, delivery_key, message, rendered,"
                        " attempts, last_error, enqueued_ms, failed_ms)"
                        " SELECT destination, channel, route, delivery_key, message, rendered, attempts, ?2,"
                        " enqueued_ms, ?3 FROM outbox WHERE seq = ?1");
    sqlite3_bind_int64(s, 1, seq);
    bind_text(s, 2, reason);
    sqlite3_bind_int64(s, 3, now_ms);
    run(db_, s);
    remove(seq);
}

void OutboxStore::hold(const std::string &destination, const DeliveryJob &job, const std::string &reason,
                       int64_t now_ms) {
    auto *s = statement("INSERT INTO dead_letters (destination, channel, route, delivery_key, message, rendered,"
                        " attempts, last_error, enqueued_ms, failed_ms, held)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?8, 1)");
    bind_text(s, 1, destination);
    bind_text(s, 2, job.channel);
    bind_text(s, 3, job.route);
    bind_text(s, 4, job.delivery_key);
    bind_text(s, 5, message_to_json(job.message));
    bind_text(s, 6, job.rendered);
    bind_text(s, 7, reason);
    sqlite3_bind_int64(s, 8, now_ms);
    run(db_, s);
}

int64_t OutboxStore::revive(int64_t parked_seq, int64_t now_ms, Shelf shelf) {
    auto *s = statement("INSERT INTO outbox (destination, channel, route, delivery_key, message, rendered, attempts,"
                        " last_error, enqueued_ms) SELECT destination, channel, route, delivery_key, message,"
                        " rendered, 0, last_error, ?2 FROM dead_letters WHERE seq = ?1 AND held = ?3");
    sqlite3_bind_int64(s, 1, parked_seq);
    sqlite3_bind_int64(s, 2, now_ms);
    sqlite3_bind_int(s, 3, shelf == Shelf::held);
    run(db_, s);
    if (sqlite3_changes(db_) == 0) return 0;
    int64_t seq = sqlite3_last_insert_rowid(db_);
    drop_dead(parked_seq, shelf);
    return seq;
}

bool OutboxStore::drop_dead(int64_t parked_seq, Shelf shelf) {
    auto *s = statement("DELETE FROM dead_letters WHERE seq = ?1 AND held = ?2");
    sqlite3_bind_int64(s, 1, parked_seq);
    sqlite3_bind_int(s, 2, shelf == Shelf::held);
    run(db_, s);
    return sqlite3_changes(db_) > 0;
}

bool OutboxStore::seen_before(const std::string &source, const std::string &key, int64_t since_ms, int64_t now_ms) {
    // One statement: a new key is inserted, a key older than the window is renewed, a key seen within the window
    // is left alone — and that last case, no row changed, is "seen before".
    auto *put = statement("INSERT INTO seen (source, key, seen_ms) VALUES (?1, ?2, ?3)"
                          " ON CONFLICT (source, key) DO UPDATE SET seen_ms = excluded.seen_ms"
                          " WHERE seen.seen_ms < ?4");
    bind_text(put, 1, source);
    bind_text(put, 2, key);
    sqlite3_bind_int64(put, 3, now_ms);
    sqlite3_bind_int64(put, 4, since_ms);
    run(db_, put);
    return sqlite3_changes(db_) == 0;
}

namespace {
// A table's key columns, in its key order, as the fields of its key.
template <class Key> auto key_fields(Key &k) {
    if constexpr (std::is_same_v<std::remove_const_t<Key>, SeenKey>) return std::array{&k.source, &k.key};
    else return std::array{&k.source, &k.source_native, &k.destination};
}
} // namespace

// `sql` selects the key columns and the time of the rows after the cursor (bound first), in key order, up to a
// limit (bound next).
template <class Key>
std::vector<Key> OutboxStore::expired_slice(const char *sql, Key &cursor, int64_t before_ms, size_t rows,
                                            int64_t &oldest_kept, bool &end) {
    auto *s = statement(sql);
    auto fields = key_fields(cursor);
    const int n = static_cast<int>(fields.size());
    for (int i = 0; i < n; ++i) bind_text(s, i + 1, *fields[static_cast<size_t>(i)]);
    sqlite3_bind_int64(s, n + 1, static_cast<int64_t>(rows));
    std::vector<Key> expired;
    size_t read = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ++read;
        for (int i = 0; i < n; ++i) *fields[static_cast<size_t>(i)] = text(s, i);
        int64_t at = sqlite3_column_int64(s, n);
        if (at < before_ms) expired.push_back(cursor);
        else oldest_kept = std::min(oldest_kept, at);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("outbox: ") + sqlite3_errmsg(db_));
    end = read < rows;
    if (end) cursor = {}; // the next slice starts over, below every key
    return expired;
}

// `sql` deletes one row by its key columns (bound first) unless it is as recent as the time bound next.
template <class Key> void OutboxStore::forget(const char *sql, const std::vector<Key> &keys, int64_t before_ms) {
    auto *s = statement(sql);
    for (const Key &k : keys) {
        auto fields = key_fields(k);
        const int n = static_cast<int>(fields.size());
        for (int i = 0; i < n; ++i) bind_text(s, i + 1, *fields[static_cast<size_t>(i)]);
        sqlite3_bind_int64(s, n + 1, before_ms);
        run(db_, s);
    }
}

std::vector<SeenKey> OutboxStore::expired_seen(int64_t before_ms, size_t rows, int64_t &oldest_kept, bool &end) {
    return expired_slice("SELECT source, key, seen_ms FROM seen WHERE (source, key) > (?1, ?2)"
                         " ORDER BY source, key LIMIT ?3",
                         seen_cursor_, before_ms, rows, oldest_kept, end);
}

std::vector<IdKey> OutboxStore::expired_ids(int64_t before_ms, size_t rows, int64_t &oldest_kept, bool &end) {
    return expired_slice("SELECT source, source_native, destination, mapped_ms FROM id_map"
                         " WHERE (source, source_native, destination) > (?1, ?2, ?3)"
                         " ORDER BY source, source_native, destination LIMIT ?4",
                         ids_cursor_, before_ms, rows, oldest_kept, end);
}

void OutboxStore::forget_seen(const std::vector<SeenKey> &keys, int64_t before_ms) {
    forget("DELETE FROM seen WHERE source = ?1 AND key = ?2 AND seen_ms < ?3", keys, before_ms);
}

void OutboxStore::forget_ids(const std::vector<IdKey> &keys, int64_t before_ms) {
    forget("DELETE FROM id_map WHERE source = ?1 AND source_native = ?2 AND destination = ?3 AND mapped_ms < ?4",
           keys, before_ms);
}

void OutboxStore::map_ids(const std::string &source, const std::string &source_native, const std::string &destination,
                          const std::string &destination_native, const std::string &message_id, int64_t now_ms) {
    auto *s = statement("INSERT OR REPLACE INTO id_map (source, source_native, destination, destination_native,"
                        " message_id, mapped_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    bind_text(s, 1, source);
    bind_text(s, 2, source_native);
    bind_text(s, 3, destination);
    bind_text(s, 4, destination_native);
    bind_text(s, 5, message_id);
    sqlite3_bind_int64(s, 6, now_ms);
    run(db_, s);
}

std::vector<StoredDelivery> OutboxStore::read_rows(sqlite3_stmt *s, bool dead) {
    std::vector<StoredDelivery> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        StoredDelivery d;
        d.seq = sqlite3_column_int64(s, 0);
        d.destination = text(s, 1);
        d.job.channel = text(s, 2);
        d.job.route = text(s, 3);
        d.job.delivery_key = text(s, 4);
        std::string error;
        if (!message_from_json(text(s, 5), d.job.message, error))
            d.job.message.text = "(unreadable stored message: " + error + ")";
        d.job.rendered = text(s, 6);
        d.job.attempts = static_cast<uint32_t>(sqlite3_column_int64(s, 7));
        d.last_error = text(s, 8);
        d.enqueued_ms = sqlite3_column_int64(s, 9);
        if (dead) d.failed_ms = sqlite3_column_int64(s, 10);
        out.push_back(std::move(d));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("outbox: ") + sqlite3_errmsg(db_));
    return out;
}

std::vector<StoredDelivery> OutboxStore::pending() {
    return read_rows(statement("SELECT seq, destination, channel, route, delivery_key, message, rendered, attempts,"
                               " last_error, enqueued_ms FROM outbox ORDER BY seq"),
                     false);
}

std::vector<StoredDelivery> OutboxStore::dead_letters(size_t limit, Shelf shelf) {
    auto *s = statement("SELECT seq, destination, channel, route, delivery_key, message, rendered, attempts,"
                        " last_error, enqueued_ms, failed_ms FROM dead_letters WHERE held = ?2 ORDER BY seq LIMIT ?1");
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(limit));
    sqlite3_bind_int(s, 2, shelf == Shelf::held);
    return read_rows(s, true);
}

std::optional<StoredDelivery> OutboxStore::dead_letter(int64_t seq, Shelf shelf) {
    auto *s = statement("SELECT seq, destination, channel, route, delivery_key, message, rendered, attempts,"
                        " last_error, enqueued_ms, failed_ms FROM dead_letters WHERE seq = ?1 AND held = ?2");
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int(s, 2, shelf == Shelf::held);
    auto rows = read_rows(s, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

std::optional<std::string> OutboxStore::mapped_id(const std::string &source, const std::string &source_native,
                                                  const std::string &destination, int64_t since_ms) {
    auto *s = statement("SELECT destination_native FROM id_map WHERE source = ?1 AND source_native = ?2"
                        " AND destination = ?3 AND mapped_ms >= ?4");
    bind_text(s, 1, source);
    bind_text(s, 2, source_native);
    bind_text(s, 3, destination);
    sqlite3_bind_int64(s, 4, since_ms);
    std::optional<std::string> out;
    if (sqlite3_step(s) == SQLITE_ROW) out = text(s, 0);
    sqlite3_reset(s);
    return out;
}

std::vector<std::string> OutboxStore::destinations_posted_to() {
    auto *s = statement("SELECT DISTINCT destination FROM id_map");
    std::vector<std::string> out;
    while (sqlite3_step(s) == SQLITE_ROW) out.push_back(text(s, 0));
    sqlite3_reset(s);
    return out;
}

bool OutboxStore::posted_by_us(const std::string &instance, const std::string &native_id, int64_t since_ms) {
    auto *s = statement("SELECT 1 FROM id_map WHERE destination = ?1 AND destination_native = ?2"
                        " AND mapped_ms >= ?3 LIMIT 1");
    bind_text(s, 1, instance);
    bind_text(s, 2, native_id);
    sqlite3_bind_int64(s, 3, since_ms);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return found;
}

} // namespace relais
