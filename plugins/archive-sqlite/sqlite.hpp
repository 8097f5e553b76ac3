// sqlite.hpp — small RAII wrappers over the SQLite C API: a connection, a prepared statement, a transaction.
// Errors become SqliteError, which keeps SQLite's result code so callers can tell temporary from permanent.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace relais::archive_sqlite {

class SqliteError : public std::runtime_error {
public:
    SqliteError(int code, const std::string &what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    // Worth retrying later: another process holds the lock, the disk is full or failing, the file went away.
    bool temporary() const {
        switch (code_ & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_NOMEM:
        case SQLITE_PROTOCOL:
        case SQLITE_READONLY: return true;
        default: return false;
        }
    }

private:
    int code_;
};

class Connection {
public:
    Connection() = default;
    Connection(const std::string &path, int flags) {
        int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
        if (rc != SQLITE_OK) {
            std::string what = "cannot open the archive database " + path + ": " +
                               (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
            sqlite3_close_v2(db_);
            db_ = nullptr;
            throw SqliteError(rc, what);
        }
        sqlite3_extended_result_codes(db_, 1);
    }
    ~Connection() { sqlite3_close_v2(db_); }
    Connection(Connection &&o) noexcept : db_(o.db_) { o.db_ = nullptr; }
    Connection &operator=(Connection &&o) noexcept {
        if (this != &o) {
            sqlite3_close_v2(db_);
            db_ = o.db_;
            o.db_ = nullptr;
        }
        return *this;
    }
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    sqlite3 *get() const { return db_; }
    explicit operator bool() const { return db_ != nullptr; }

    void exec(const char *sql) {
        char *msg = nullptr;
        int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
        if (rc != SQLITE_OK) {
            std::string what = msg ? msg : sqlite3_errstr(rc);
            sqlite3_free(msg);
            throw SqliteError(rc, what);
        }
    }

private:
    sqlite3 *db_ = nullptr;
};

class Statement {
public:
    Statement() = default;
    Statement(sqlite3 *db, std::string_view sql) : db_(db) {
        int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                    nullptr);
        if (rc != SQLITE_OK) throw SqliteError(rc, std::string("cannot prepare a statement: ") + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(Statement &&o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
    Statement &operator=(Statement &&o) noexcept {
        if (this != &o) {
            sqlite3_finalize(stmt_);
            db_ = o.db_;
            stmt_ = o.stmt_;
            o.stmt_ = nullptr;
        }
        return *this;
    }
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    Statement &bind(int i, std::string_view v) {
        check(sqlite3_bind_text(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_TRANSIENT));
        return *this;
    }
    Statement &bind(int i, int64_t v) {
        check(sqlite3_bind_int64(stmt_, i, v));
        return *this;
    }
    Statement &bind_null(int i) {
        check(sqlite3_bind_null(stmt_, i));
        return *this;
    }

    // true while there is a row to read; false when done.
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw SqliteError(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
    }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    std::string text(int col) const {
        auto *p = reinterpret_cast<const char *>(sqlite3_column_text(stmt_, col));
        return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
    }
    sqlite3_stmt *handle() { return stmt_; }
    int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    double real(int col) const { return sqlite3_column_double(stmt_, col); }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) throw SqliteError(rc, std::string("cannot bind a value: ") + sqlite3_errmsg(db_));
    }
    sqlite3 *db_ = nullptr;
    sqlite3_stmt *stmt_ = nullptr;
};

// Resets a statement when the scope that used it ends, so it holds no read lock and no stale bindings.
class Using {
public:
    explicit Using(Statement &s) : s_(s) {}
    ~Using() { s_.reset(); }
    Statement *operator->() { return &s_; }
    Statement &operator*() { return s_; }
    Using(const Using &) = delete;
    Using &operator=(const Using &) = delete;

private:
    Statement &s_;
};

// BEGIN IMMEDIATE … COMMIT; rolls back when left without commit().
class Transaction {
public:
    explicit Transaction(Connection &c) : c_(c) { c_.exec("BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!done_) sqlite3_exec(c_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
        c_.exec("COMMIT");
        done_ = true;
    }
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

private:
    Connection &c_;
    bool done_ = false;
};

} // namespace relais::archive_sqlite
