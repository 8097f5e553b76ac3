#include "state/kv_store.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace relais {

namespace {
void exec(sqlite3 *db, const char *sql, const std::string &path) {
    char *err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error("state store " + path + ": " + msg);
    }
}
sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("state store: ") + sqlite3_errmsg(db));
    return s;
}
void bind_text(sqlite3_stmt *s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
} // namespace

KvStore::KvStore(const std::string &path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error("cannot open the state store " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
              "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
              " PRIMARY KEY (ns, key)) WITHOUT ROWID;",
         path);
    get_ = prepare(db_, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2");
    put_ = prepare(db_, "INSERT INTO kv (ns, key, value) VALUES (?1, ?2, ?3)"
                        " ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value");
    erase_ = prepare(db_, "DELETE FROM kv WHERE ns = ?1 AND key = ?2");
}

KvStore::~KvStore() {
    sqlite3_finalize(get_);
    sqlite3_finalize(put_);
    sqlite3_finalize(erase_);
    sqlite3_close(db_);
}

std::optional<std::string> KvStore::get(std::string_view ns, std::string_view key) {
    std::lock_guard lock(mutex_);
    bind_text(get_, 1, ns);
    bind_text(get_, 2, key);
    std::optional<std::string> out;
    if (sqlite3_step(get_) == SQLITE_ROW) {
        auto *data = static_cast<const char *>(sqlite3_column_blob(get_, 0));
        out = std::string(data ? data : "", static_cast<size_t>(sqlite3_column_bytes(get_, 0)));
    }
    sqlite3_reset(get_);
    return out;
}

bool KvStore::put(std::string_view ns, std::string_view key, std::string_view value) {
    std::lock_guard lock(mutex_);
    bind_text(put_, 1, ns);
    bind_text(put_, 2, key);
    sqlite3_bind_blob(put_, 3, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    bool ok = sqlite3_step(put_) == SQLITE_DONE;
    sqlite3_reset(put_);
    return ok;
}

bool KvStore::erase(std::string_view ns, std::string_view key) {
    std::lock_guard lock(mutex_);
    bind_text(erase_, 1, ns);
    bind_text(erase_, 2, key);
    bool ok = sqlite3_step(erase_) == SQLITE_DONE;
    sqlite3_reset(erase_);
    return ok;
}

} // namespace relais
