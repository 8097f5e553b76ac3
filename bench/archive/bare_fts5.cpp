#include "bare_fts5.hpp"

#include <stdexcept>

namespace relais::bench {

BareFts5::BareFts5(const std::string &path, const std::string &synchronous, Kind kind) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot open " + path + ": " + sqlite3_errmsg(db_));
    exec("PRAGMA journal_mode = WAL");
    exec(("PRAGMA synchronous = " + synchronous).c_str());
    exec("PRAGMA cache_size = -16384");
    exec("PRAGMA temp_store = MEMORY");
    if (kind == Kind::fts5) {
        exec("CREATE VIRTUAL TABLE f USING fts5(text, author, tag_words, tokenize = 'unicode61 remove_diacritics 2')");
    } else {
        exec("CREATE TABLE f (rowid INTEGER PRIMARY KEY, text TEXT, author TEXT, tag_words TEXT)");
        if (kind == Kind::plain_then_fts5) {
            exec("CREATE VIRTUAL TABLE f_index USING fts5(text, author, tag_words, content = 'f', content_rowid = "
                 "'rowid', tokenize = 'unicode61 remove_diacritics 2')");
            index_ = prepare("INSERT INTO f_index (rowid, text, author, tag_words) "
                             "SELECT rowid, text, author, tag_words FROM f WHERE rowid > ?1 ORDER BY rowid");
        }
    }
    insert_ = prepare("INSERT INTO f (rowid, text, author, tag_words) VALUES (?1, ?2, ?3, ?4)");
    if (kind != Kind::fts5) return;
    newest_ = prepare("SELECT rowid, text FROM f WHERE f MATCH ?1 ORDER BY rowid DESC LIMIT ?2");
    ranked_ = prepare("SELECT rowid, text FROM f WHERE f MATCH ?1 ORDER BY rank LIMIT ?2");
    count_ = prepare("SELECT count(*) FROM f WHERE f MATCH ?1");
}

void BareFts5::index_pending() {
    if (!index_) return;
    begin();
    sqlite3_bind_int64(index_, 1, indexed_);
    int rc = sqlite3_step(index_);
    sqlite3_reset(index_);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("indexing: ") + sqlite3_errmsg(db_));
    commit();
    sqlite3_stmt *last = prepare("SELECT max(rowid) FROM f");
    if (sqlite3_step(last) == SQLITE_ROW) indexed_ = sqlite3_column_int64(last, 0);
    sqlite3_finalize(last);
}

BareFts5::~BareFts5() {
    for (auto *s : {insert_, newest_, ranked_, count_, index_}) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
}

void BareFts5::exec(const char *sql) {
    char *error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string what = std::string(sql) + ": " + (error ? error : "?");
        sqlite3_free(error);
        throw std::runtime_error(what);
    }
}

sqlite3_stmt *BareFts5::prepare(const char *sql) {
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db_));
    return s;
}

void BareFts5::begin() { exec("BEGIN"); }
void BareFts5::commit() { exec("COMMIT"); }

void BareFts5::insert(int64_t rowid, const std::string &text, const std::string &author,
                      const std::string &tag_words) {
    sqlite3_bind_int64(insert_, 1, rowid);
    sqlite3_bind_text(insert_, 2, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 3, author.data(), static_cast<int>(author.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 4, tag_words.data(), static_cast<int>(tag_words.size()), SQLITE_STATIC);
    int rc = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("bare FTS5 insert: ") + sqlite3_errmsg(db_));
}

std::vector<int64_t> BareFts5::search(const std::string &word, int limit, bool ranked) {
    sqlite3_stmt *s = ranked ? ranked_ : newest_;
    std::string query = "\"" + word + "\"";
    sqlite3_bind_text(s, 1, query.data(), static_cast<int>(query.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, limit);
    std::vector<int64_t> rows;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) rows.push_back(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("bare FTS5 search: ") + sqlite3_errmsg(db_));
    return rows;
}

int64_t BareFts5::count(const std::string &word) {
    std::string query = "\"" + word + "\"";
    sqlite3_bind_text(count_, 1, query.data(), static_cast<int>(query.size()), SQLITE_TRANSIENT);
    int64_t n = sqlite3_step(count_) == SQLITE_ROW ? sqlite3_column_int64(count_, 0) : -1;
    sqlite3_reset(count_);
    return n;
}

} // namespace relais::bench
