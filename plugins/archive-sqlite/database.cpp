#include "database.hpp"

#include "fields.hpp"

#include <algorithm>

namespace relais::archive_sqlite {
namespace {

constexpr int schema_version = 3;

// `messages` holds every delivered message, one row each, keyed by `dedupe_key` (the message id) so a delivery
// repeated after a retry or a restart stores nothing new. `messages_fts` is an external-content FTS5 index over
// the searchable rows: it stores only the index, reading text back from `messages` by row id for snippets.
//
// A message is durable once its row is committed; the index follows in bulk. Rows up to
// `messages_fts_progress.indexed_up_to` are indexed; later ones are indexed together once `index_every` of them
// wait, before every search (by whichever process searches) and on close. FTS5 writes a new segment of its index at
// every commit, so indexing a few thousand rows at once costs a bulk insert's price instead of a segment a batch.
// The triggers keep edits and deletes of indexed rows in step, so the index never holds words a row no longer has;
// a row not indexed yet is indexed as it is when its turn comes.
constexpr const char *triggers_sql = R"sql(
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.searchable AND old.rowid <= (SELECT indexed_up_to FROM messages_fts_progress) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text, author, tag_words)
        VALUES ('delete', old.rowid, old.text, old.author, old.tag_words);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, author, tag_words, searchable ON messages
WHEN old.rowid <= (SELECT indexed_up_to FROM messages_fts_progress) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text, author, tag_words)
        SELECT 'delete', old.rowid, old.text, old.author, old.tag_words WHERE old.searchable;
    INSERT INTO messages_fts(rowid, text, author, tag_words)
        SELECT new.rowid, new.text, new.author, new.tag_words WHERE new.searchable;
END;
)sql";

constexpr const char *schema_sql = R"sql(
CREATE TABLE messages (
    rowid          INTEGER PRIMARY KEY,
    dedupe_key     TEXT UNIQUE,
    id             TEXT NOT NULL,
    source         TEXT NOT NULL,
    network        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    native_id      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    author         TEXT NOT NULL,
    author_id      TEXT NOT NULL,
    text           TEXT NOT NULL,
    tags           TEXT NOT NULL,
    tag_words      TEXT NOT NULL,
    mentions       TEXT NOT NULL,
    links          TEXT NOT NULL,
    attachments    TEXT NOT NULL,
    thread_id      TEXT NOT NULL,
    reply_to       TEXT NOT NULL,
    level          TEXT NOT NULL,
    language       TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    trace          TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    archived_at_ms INTEGER NOT NULL,
    edited_at_ms   INTEGER,
    deleted_at_ms  INTEGER,
    searchable     INTEGER NOT NULL
);
CREATE INDEX messages_thread ON messages(thread_id) WHERE thread_id <> '';
CREATE INDEX messages_native ON messages(source, native_id);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, author, tag_words,
    content = 'messages', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE messages_fts_progress (indexed_up_to INTEGER NOT NULL);
INSERT INTO messages_fts_progress VALUES (0);
)sql";

// Versions 1 and 2 indexed each row as it was inserted: every row is indexed. (Version 1 did it with a trigger,
// which made SQLite wrap each insert in a statement savepoint, and FTS5 write a segment at each.) Most messages
// are in no thread: the thread index now leaves them out.
constexpr const char *upgrade_to_3_sql = R"sql(
DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_delete;
DROP TRIGGER IF EXISTS messages_fts_update;
DROP INDEX IF EXISTS messages_thread;
CREATE INDEX messages_thread ON messages(thread_id) WHERE thread_id <> '';
CREATE TABLE messages_fts_progress (indexed_up_to INTEGER NOT NULL);
INSERT INTO messages_fts_progress SELECT coalesce(max(rowid), 0) FROM messages;
)sql";

constexpr const char *message_columns =
    "m.id, m.source, m.network, m.channel, m.native_id, m.kind, m.author, m.author_id, m.text, m.tags, m.mentions, "
    "m.links, m.attachments, m.thread_id, m.reply_to, m.level, m.language, m.created_at_ms, m.received_at_ms, "
    "m.trace, m.metadata";
constexpr int message_column_count = 21;

// Column weights, in the order of messages_fts's columns (text, author, tag_words): a word in a tag counts three
// times one in the text, one in the author's name twice. Used by bm25 and by relais_matches below.
constexpr double column_weights[] = {1.0, 2.0, 3.0};
#define RELAIS_ARCHIVE_BM25 "bm25(messages_fts, 1.0, 2.0, 3.0)"

// The score of a newest-first hit: its matches, weighted by column. bm25 would first count every match of the
// query in the whole archive (for its IDF), which costs more than the search itself for common words.
void relais_matches(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int, sqlite3_value **) {
    int count = 0;
    double score = 0;
    if (api->xInstCount(fts, &count) == SQLITE_OK) {
        for (int i = 0; i < count; ++i) {
            int phrase = 0, column = 0, offset = 0;
            if (api->xInst(fts, i, &phrase, &column, &offset) == SQLITE_OK && column >= 0 && column < 3)
                score += column_weights[column];
        }
    }
    sqlite3_result_double(ctx, score);
}

// Newest first reads the index first (CROSS JOIN keeps it the outer loop), so FTS5 answers ORDER BY rowid DESC
// itself: it walks the index backwards and stops at LIMIT; snippet() and the score run only for the rows returned.
const std::string newest_sql = std::string("SELECT ") + message_columns +
                               ", snippet(messages_fts, -1, '[', ']', '…', 16), relais_matches(messages_fts)"
                               " FROM messages_fts CROSS JOIN messages AS m ON m.rowid = messages_fts.rowid"
                               " WHERE messages_fts MATCH ?1 ORDER BY messages_fts.rowid DESC LIMIT ?2";

// Ranked search must score every match (bm25 reads each row's length: about 1 µs a row), so it scores only the
// newest `rank_window` matches: the row id of the oldest of them bounds the scan.
constexpr const char *window_floor_sql =
    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2";
// The scores alone, sorted by SQLite's top-N sorter; snippets are made afterwards for the few rows kept.
constexpr const char *ranked_sql =
    "SELECT rowid, " RELAIS_ARCHIVE_BM25 " FROM messages_fts WHERE messages_fts MATCH ?1 AND rowid >= ?3"
    " ORDER BY 2, rowid DESC LIMIT ?2";
const std::string hit_sql = std::string("SELECT ") + message_columns +
                            ", snippet(messages_fts, -1, '[', ']', '…', 16)"
                            " FROM messages_fts CROSS JOIN messages AS m ON m.rowid = messages_fts.rowid"
                            " WHERE messages_fts MATCH ?1 AND messages_fts.rowid = ?2";

Message read_message(const Statement &s) {
    Message m;
    m.id = s.text(0);
    m.source = s.text(1);
    m.network = s.text(2);
    m.channel = s.text(3);
    m.native_id = s.text(4);
    m.kind = parse_kind(s.text(5)).value_or(Kind::post);
    m.author = s.text(6);
    m.author_id = s.text(7);
    m.text = s.text(8);
    m.tags = strings_from_json(s.text(9));
    m.mentions = strings_from_json(s.text(10));
    m.links = strings_from_json(s.text(11));
    m.attachments = attachments_from_json(s.text(12));
    m.thread_id = s.text(13);
    m.reply_to = s.text(14);
    m.level = parse_level(s.text(15)).value_or(Level::unset);
    m.language = s.text(16);
    m.created_at_ms = s.integer(17);
    m.received_at_ms = s.integer(18);
    m.trace = strings_from_json(s.text(19));
    m.metadata = metadata_from_json(s.text(20));
    return m;
}

void configure(Connection &c, const Options &o) {
    sqlite3_busy_timeout(c.get(), static_cast<int>(std::min<uint64_t>(o.busy_timeout_ms, 0x7fffffff)));
    c.exec("PRAGMA cache_size = -16384"); // 16 MiB of pages
    c.exec("PRAGMA temp_store = MEMORY");
}

int user_version(Connection &c) {
    Statement s(c.get(), "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

void check_version(int version, const std::string &path) {
    if (version > schema_version)
        throw SqliteError(SQLITE_ERROR, "the archive " + path + " has schema version " + std::to_string(version) +
                                            ", newer than this archive-sqlite understands (" +
                                            std::to_string(schema_version) + "); use a newer Relais");
}

} // namespace

struct Database::Writer {
    Connection db;
    Statement find_key, insert, index_row, target_by_row, target_by_native, apply_edit, apply_delete;
    Statement read_progress, last_row, index_from, set_progress;
    int64_t indexed_up_to = 0; // as read in the current write transaction
};

struct Database::Reader {
    Connection db;
    Statement newest, window_floor, ranked, hit, rows_waiting;
    fts5_tokenizer tokenizer{};
    Fts5Tokenizer *tokenizer_instance = nullptr;

    ~Reader() {
        if (tokenizer_instance) tokenizer.xDelete(tokenizer_instance);
    }
    // relais_matches, and the same tokenizer with the same arguments as messages_fts (to tell which query terms
    // hold words). Before the search statements are prepared: they call relais_matches.
    void load_fts5_extras() {
        fts5_api *api = nullptr;
        Statement s(db.get(), "SELECT fts5(?1)");
        sqlite3_bind_pointer(s.handle(), 1, &api, "fts5_api_ptr", nullptr);
        s.step();
        s.reset();
        if (!api) throw SqliteError(SQLITE_ERROR, "this SQLite has no FTS5; the archive needs it");
        int rc = api->xCreateFunction(api, "relais_matches", nullptr, &relais_matches, nullptr);
        if (rc != SQLITE_OK) throw SqliteError(rc, "cannot register relais_matches with FTS5");
        void *context = nullptr;
        if (api->xFindTokenizer(api, "unicode61", &context, &tokenizer) != SQLITE_OK) return;
        const char *args[] = {"remove_diacritics", "2"};
        if (tokenizer.xCreate(context, args, 2, &tokenizer_instance) != SQLITE_OK) tokenizer_instance = nullptr;
    }
};

Database::Database(Options options) : options_(std::move(options)) {}
Database::~Database() { close(); }

void Database::open() {
    std::scoped_lock lock(write_mutex_, read_mutex_);
    if (writer_) return;

    auto w = std::make_unique<Writer>();
    w->db = Connection(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    configure(w->db, options_);
    w->db.exec("PRAGMA journal_mode = WAL");
    w->db.exec(("PRAGMA synchronous = " + options_.synchronous).c_str());
    w->db.exec("PRAGMA journal_size_limit = 67108864");
    int version = user_version(w->db);
    check_version(version, options_.path);
    if (version == 0) {
        Transaction tx(w->db); // another process may be creating it too: look again under the write lock
        version = user_version(w->db);
        check_version(version, options_.path);
        if (version == 0) {
            w->db.exec(schema_sql);
            w->db.exec(triggers_sql);
            w->db.exec("PRAGMA user_version = 3");
            version = schema_version;
        }
        tx.commit();
    }
    if (version < 3) {
        Transaction tx(w->db);
        if (user_version(w->db) < 3) {
            w->db.exec(upgrade_to_3_sql);
            w->db.exec(triggers_sql);
            w->db.exec("PRAGMA user_version = 3");
        }
        tx.commit();
    }
    sqlite3 *db = w->db.get();
    w->find_key = Statement(db, "SELECT rowid FROM messages WHERE dedupe_key = ?1");
    // A repeated key inserts nothing (no row is changed), which is how a duplicate is told without a lookup first.
    w->insert = Statement(db, "INSERT INTO messages (dedupe_key, id, source, network, channel, native_id, kind, "
                              "author, author_id, text, tags, tag_words, mentions, links, attachments, thread_id, "
                              "reply_to, level, language, created_at_ms, received_at_ms, trace, metadata, "
                              "archived_at_ms, searchable) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                              "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25) "
                              "ON CONFLICT (dedupe_key) DO NOTHING");
    w->index_row = Statement(db, "INSERT INTO messages_fts(rowid, text, author, tag_words) VALUES (?1, ?2, ?3, ?4)");
    w->target_by_row =
        Statement(db, "SELECT rowid FROM messages WHERE rowid = ?1 AND kind NOT IN ('edit', 'delete')");
    w->target_by_native = Statement(db, "SELECT rowid FROM messages WHERE source = ?1 AND native_id = ?2 "
                                        "AND kind NOT IN ('edit', 'delete') ORDER BY rowid DESC LIMIT 1");
    w->apply_edit = Statement(db, "UPDATE messages SET text = ?2, tags = coalesce(?3, tags), "
                                  "tag_words = coalesce(?4, tag_words), mentions = coalesce(?5, mentions), "
                                  "links = coalesce(?6, links), edited_at_ms = ?7 WHERE rowid = ?1");
    w->apply_delete = Statement(db, "UPDATE messages SET searchable = 0, "
                                    "deleted_at_ms = coalesce(deleted_at_ms, ?2) WHERE rowid = ?1");
    w->read_progress = Statement(db, "SELECT indexed_up_to FROM messages_fts_progress");
    w->last_row = Statement(db, "SELECT coalesce(max(rowid), 0) FROM messages");
    // One statement for the whole range: FTS5 keeps the terms in memory and writes them as one segment.
    w->index_from = Statement(db, "INSERT INTO messages_fts(rowid, text, author, tag_words) SELECT rowid, text, "
                                  "author, tag_words FROM messages WHERE rowid > ?1 AND searchable ORDER BY rowid");
    w->set_progress = Statement(db, "UPDATE messages_fts_progress SET indexed_up_to = ?1");

    auto r = std::make_unique<Reader>();
    r->db = Connection(options_.path, SQLITE_OPEN_READWRITE);
    configure(r->db, options_);
    r->db.exec("PRAGMA query_only = 1");
    r->db.exec("PRAGMA mmap_size = 268435456");
    r->load_fts5_extras();
    r->newest = Statement(r->db.get(), newest_sql);
    r->window_floor = Statement(r->db.get(), window_floor_sql);
    r->ranked = Statement(r->db.get(), ranked_sql);
    r->hit = Statement(r->db.get(), hit_sql);
    r->rows_waiting = Statement(r->db.get(), "SELECT (SELECT coalesce(max(rowid), 0) FROM messages) > indexed_up_to "
                                             "FROM messages_fts_progress");

    writer_ = std::move(w);
    reader_ = std::move(r);
}

void Database::close() {
    std::scoped_lock lock(write_mutex_, read_mutex_);
    reader_.reset();
    if (writer_) {
        try { // leave the file fully indexed, for whoever reads it with plain SQL
            Transaction tx(writer_->db);
            writer_->indexed_up_to = read_progress();
            index_waiting_rows(0);
            tx.commit();
        } catch (const SqliteError &) { // the rows stay stored; the next search or start indexes them
        }
        try {
            writer_->db.exec("PRAGMA optimize");
        } catch (const SqliteError &) {
        }
        writer_.reset();
    }
}

int64_t Database::find_target(const Message &m, std::string_view hint) {
    auto &w = *writer_;
    if (!hint.empty() && hint.find_first_not_of("0123456789") == std::string_view::npos && hint.size() < 19) {
        Using s(w.target_by_row);
        s->bind(1, static_cast<int64_t>(std::stoll(std::string(hint))));
        if (s->step()) return s->integer(0);
    }
    // Networks name the original in reply_to; some (Mastodon) keep the original's native id on an edit.
    const std::string &original = m.reply_to.empty() ? m.native_id : m.reply_to;
    if (original.empty()) return 0;
    Using s(w.target_by_native);
    s->bind(1, m.source).bind(2, original);
    return s->step() ? s->integer(0) : 0;
}

int64_t Database::insert(const Message &m, const std::string &key, bool searchable, int64_t now_ms) {
    const std::string words = tag_words(m.tags);
    Using s(writer_->insert);
    if (key.empty()) s->bind_null(1);
    else s->bind(1, key);
    s->bind(2, m.id)
        .bind(3, m.source)
        .bind(4, m.network)
        .bind(5, m.channel)
        .bind(6, m.native_id)
        .bind(7, kind_name(m.kind))
        .bind(8, m.author)
        .bind(9, m.author_id)
        .bind(10, m.text)
        .bind(11, strings_to_json(m.tags))
        .bind(12, words)
        .bind(13, strings_to_json(m.mentions))
        .bind(14, strings_to_json(m.links))
        .bind(15, attachments_to_json(m.attachments))
        .bind(16, m.thread_id)
        .bind(17, m.reply_to)
        .bind(18, level_name(m.level))
        .bind(19, m.language)
        .bind(20, m.created_at_ms)
        .bind(21, m.received_at_ms)
        .bind(22, strings_to_json(m.trace))
        .bind(23, metadata_to_json(m.metadata))
        .bind(24, now_ms)
        .bind(25, int64_t{searchable ? 1 : 0});
    s->step();
    if (sqlite3_changes(writer_->db.get()) == 0) return 0; // the key is already archived
    const int64_t rowid = sqlite3_last_insert_rowid(writer_->db.get());
    // Row ids after a hand-deleted last row are given again; one at or below the indexed mark is indexed now.
    if (searchable && rowid <= writer_->indexed_up_to) {
        Using index(writer_->index_row);
        index->bind(1, rowid).bind(2, m.text).bind(3, m.author).bind(4, words);
        index->step();
    }
    return rowid;
}

Stored Database::store(const Message &m, const std::string &key, std::string_view target_hint, int64_t now_ms) {
    std::lock_guard lock(write_mutex_);
    if (!writer_) throw SqliteError(SQLITE_CANTOPEN, "the archive is not open");
    Transaction tx(writer_->db);
    writer_->indexed_up_to = read_progress();
    Stored out = store_one(m, key, target_hint, now_ms);
    index_waiting_rows(options_.index_every);
    tx.commit();
    return out;
}

std::vector<Stored> Database::store_batch(const std::vector<ToStore> &items, int64_t now_ms) {
    std::lock_guard lock(write_mutex_);
    if (!writer_) throw SqliteError(SQLITE_CANTOPEN, "the archive is not open");
    std::vector<Stored> out;
    out.reserve(items.size());
    Transaction tx(writer_->db); // one commit for them all
    writer_->indexed_up_to = read_progress();
    for (const ToStore &item : items) out.push_back(store_one(*item.message, item.key, item.target_hint, now_ms));
    index_waiting_rows(options_.index_every);
    tx.commit();
    return out;
}

Stored Database::store_one(const Message &m, const std::string &key, std::string_view target_hint, int64_t now_ms) {
    auto &w = *writer_;
    Stored out;
    auto archived_row = [&]() -> int64_t {
        Using s(w.find_key);
        s->bind(1, key);
        return s->step() ? s->integer(0) : 0;
    };
    auto duplicate = [&](int64_t rowid) {
        out.rowid = rowid;
        out.duplicate = true;
        return out; // nothing was written
    };
    if (m.kind == Kind::edit || m.kind == Kind::remove) {
        // Look first: a repeated edit must not touch its original again.
        if (int64_t row = key.empty() ? 0 : archived_row()) return duplicate(row);
        out.applied_to = find_target(m, target_hint);
    }

    if (m.kind == Kind::edit && out.applied_to) {
        // The edit's text now lives in its original; the edit's own row is kept for the record, out of search.
        out.rowid = insert(m, key, false, now_ms);
        Using s(w.apply_edit);
        s->bind(1, out.applied_to).bind(2, m.text);
        // Lists the edit does not carry stay as they were: a source that does not re-parse tags on an edit
        // must not make the original unfindable by its tag.
        if (m.tags.empty()) s->bind_null(3).bind_null(4);
        else s->bind(3, strings_to_json(m.tags)).bind(4, tag_words(m.tags));
        if (m.mentions.empty()) s->bind_null(5);
        else s->bind(5, strings_to_json(m.mentions));
        if (m.links.empty()) s->bind_null(6);
        else s->bind(6, strings_to_json(m.links));
        s->bind(7, m.created_at_ms ? m.created_at_ms : now_ms);
        s->step();
    } else if (m.kind == Kind::remove) {
        out.rowid = insert(m, key, false, now_ms);
        if (out.applied_to) {
            Using s(w.apply_delete);
            s->bind(1, out.applied_to).bind(2, m.created_at_ms ? m.created_at_ms : now_ms);
            s->step();
        }
    } else {
        // A post, reply or reaction; or an edit whose original was never archived, kept so its text is found.
        out.rowid = insert(m, key, true, now_ms);
        if (out.rowid == 0) return duplicate(archived_row());
    }
    return out;
}

int64_t Database::read_progress() {
    Using s(writer_->read_progress);
    return s->step() ? s->integer(0) : 0;
}

void Database::index_waiting_rows(uint32_t at_least) {
    auto &w = *writer_;
    int64_t last = 0;
    {
        Using s(w.last_row);
        if (s->step()) last = s->integer(0);
    }
    if (last <= w.indexed_up_to || last - w.indexed_up_to < static_cast<int64_t>(at_least)) return;
    {
        Using s(w.index_from);
        s->bind(1, w.indexed_up_to);
        s->step();
    }
    Using s(w.set_progress);
    s->bind(1, last);
    s->step();
    w.indexed_up_to = last;
}

void Database::index_before_search() {
    {
        std::lock_guard lock(read_mutex_);
        if (!reader_) throw SqliteError(SQLITE_CANTOPEN, "the archive is not open");
        Using s(reader_->rows_waiting);
        if (!s->step() || s->integer(0) == 0) return; // the usual case: a search waits for no write
    }
    std::lock_guard lock(write_mutex_);
    if (!writer_) throw SqliteError(SQLITE_CANTOPEN, "the archive is not open");
    Transaction tx(writer_->db);
    writer_->indexed_up_to = read_progress();
    index_waiting_rows(0);
    tx.commit();
}

std::vector<SearchHit> Database::search(const std::string &fts_query, uint32_t limit, relais_search_order order) {
    index_before_search();
    std::lock_guard lock(read_mutex_);
    if (!reader_) throw SqliteError(SQLITE_CANTOPEN, "the archive is not open");
    auto &r = *reader_;
    std::vector<SearchHit> hits;
    if (order != RELAIS_SEARCH_RANKED) {
        Using s(r.newest);
        s->bind(1, fts_query).bind(2, static_cast<int64_t>(limit));
        while (s->step()) {
            SearchHit h;
            h.message = read_message(*s);
            h.snippet = s->text(message_column_count);
            h.score = s->real(message_column_count + 1);
            hits.push_back(std::move(h));
        }
        return hits;
    }

    // One read transaction for the three steps, so a write in between cannot shift the rows.
    Connection &db = r.db;
    db.exec("BEGIN");
    struct End {
        Connection &db;
        ~End() { sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr); }
    } end{db};

    int64_t floor = 0;
    if (options_.rank_window > 0) {
        Using s(r.window_floor);
        s->bind(1, fts_query).bind(2, static_cast<int64_t>(options_.rank_window - 1));
        if (s->step()) floor = s->integer(0);
    }
    std::vector<std::pair<int64_t, double>> best;
    {
        Using s(r.ranked);
        s->bind(1, fts_query).bind(2, static_cast<int64_t>(limit)).bind(3, floor);
        while (s->step()) best.emplace_back(s->integer(0), -s->real(1)); // bm25 is lower for better matches
    }
    for (const auto &[rowid, score] : best) {
        Using s(r.hit);
        s->bind(1, fts_query).bind(2, rowid);
        if (!s->step()) continue;
        SearchHit h;
        h.message = read_message(*s);
        h.snippet = s->text(message_column_count);
        h.score = score;
        hits.push_back(std::move(h));
    }
    return hits;
}

bool Database::has_tokens(std::string_view text) {
    std::lock_guard lock(read_mutex_); // the tokenizer keeps scratch space: one caller at a time
    if (!reader_ || !reader_->tokenizer_instance) return true;
    bool found = false;
    auto on_token = [](void *ctx, int, const char *, int n, int, int) {
        if (n > 0) *static_cast<bool *>(ctx) = true;
        return SQLITE_DONE; // one is enough
    };
    reader_->tokenizer.xTokenize(reader_->tokenizer_instance, &found, FTS5_TOKENIZE_QUERY, text.data(),
                                 static_cast<int>(text.size()), on_token);
    return found;
}

} // namespace relais::archive_sqlite
