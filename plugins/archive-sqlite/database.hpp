// database.hpp — the archive's SQLite file: schema, storing a message (once), edits and deletes, full-text search.
//
// Two connections to the same file in WAL mode: one writes (deliver), one reads (search), each behind its own
// mutex, so other processes (`relais archive search`) can read while the daemon writes. A stored row is indexed
// for search in bulk, once `index_every` rows wait or before a search: a search waits for a write only then.
#pragma once

#include "sqlite.hpp"

#include <relais/plugin.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace relais::archive_sqlite {

struct Options {
    std::string path;
    std::string synchronous = "full"; // PRAGMA synchronous: normal, full or extra
    uint64_t busy_timeout_ms = 5000;
    uint32_t rank_window = 20000; // ranked search scores the newest this many matches; 0: all of them
    uint32_t index_every = 10000; // stored rows waiting before they are indexed in the write; 1: each at once
};

struct Stored {
    int64_t rowid = 0;       // the row that holds this message
    bool duplicate = false;  // the message was already archived: nothing changed
    int64_t applied_to = 0;  // for an edit or a delete: the row of the original it changed, 0 when not found
};

class Database {
public:
    explicit Database(Options options);
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // Opens (creating when needed) the file and its schema. Throws SqliteError.
    void open();
    void close();

    // Stores `m` once per `key` (the message id): a second call with the same key changes nothing.
    // An edit updates the text of its original, a delete hides its original from search; `target_hint` is the
    // original's row id when the host knows it (Delivery::reply_to). Throws SqliteError.
    Stored store(const Message &m, const std::string &key, std::string_view target_hint, int64_t now_ms);

    struct ToStore {
        const Message *message;
        std::string key;
        std::string target_hint;
    };
    // The same for many messages, in order, in one transaction: all are stored or none. Throws SqliteError.
    std::vector<Stored> store_batch(const std::vector<ToStore> &items, int64_t now_ms);

    // `fts_query` is an FTS5 expression (see query.hpp). Newest first stops at `limit`; ranked scores the newest
    // `rank_window` matches.
    std::vector<SearchHit> search(const std::string &fts_query, uint32_t limit, relais_search_order order);

    // Whether `text` holds at least one token for the index's tokenizer.
    bool has_tokens(std::string_view text);

    const std::string &path() const { return options_.path; }

private:
    struct Writer;
    struct Reader;
    int64_t find_target(const Message &m, std::string_view target_hint);
    // store() without the lock and the transaction, which the caller holds.
    Stored store_one(const Message &m, const std::string &key, std::string_view target_hint, int64_t now_ms);
    // The new row's id, or 0 when `key` is already archived.
    int64_t insert(const Message &m, const std::string &key, bool searchable, int64_t now_ms);
    // Inside a write transaction: the indexed mark; and indexing the rows after it, when at least `at_least` wait.
    int64_t read_progress();
    void index_waiting_rows(uint32_t at_least);
    // Indexes whatever rows wait, so a search finds every stored message.
    void index_before_search();

    Options options_;
    std::mutex write_mutex_, read_mutex_;
    std::unique_ptr<Writer> writer_;
    std::unique_ptr<Reader> reader_;
};

} // namespace relais::archive_sqlite
