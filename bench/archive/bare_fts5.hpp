// The baselines of the archive benchmark: a bare SQLite FTS5 table over the same three columns, with the same
// tokenizer and the same journal settings as the archive, filled by bulk insert (many rows a transaction). And, to
// show what bounds an archive that commits each message: the same rows in a plain table; and a plain table with an
// external-content FTS5 index brought up to date every so many rows (rows durable one by one, index in batches).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace relais::bench {

class BareFts5 {
public:
    enum class Kind { fts5, plain, plain_then_fts5 };
    // Creates the table(s) in a new file. Throws std::runtime_error.
    BareFts5(const std::string &path, const std::string &synchronous, Kind kind = Kind::fts5);
    ~BareFts5();
    BareFts5(const BareFts5 &) = delete;
    BareFts5 &operator=(const BareFts5 &) = delete;

    void begin();
    void commit();
    void insert(int64_t rowid, const std::string &text, const std::string &author, const std::string &tag_words);
    // plain_then_fts5: indexes the rows stored since the last call, in one transaction.
    void index_pending();

    // Row ids of the top `limit` matches of one word: newest first, or best bm25 first (every match scored).
    // FTS5 only.
    std::vector<int64_t> search(const std::string &word, int limit, bool ranked);
    int64_t count(const std::string &word);

private:
    void exec(const char *sql);
    sqlite3_stmt *prepare(const char *sql);

    sqlite3 *db_ = nullptr;
    sqlite3_stmt *insert_ = nullptr, *newest_ = nullptr, *ranked_ = nullptr, *count_ = nullptr, *index_ = nullptr;
    int64_t indexed_ = 0; // plain_then_fts5: the last row id indexed
};

} // namespace relais::bench
