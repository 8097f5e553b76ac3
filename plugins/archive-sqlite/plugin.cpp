// archive-sqlite: keeps every delivered message in one SQLite file with a full-text index, and answers searches.
#include "database.hpp"
#include "query.hpp"

#include <relais/plugin.hpp>

#include <chrono>
#include <filesystem>
#include <system_error>

namespace relais::archive_sqlite {
namespace {

constexpr uint32_t default_limit = 20;
constexpr uint32_t max_limit = 1000;

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// `path` as configured: unset → <data_dir>/archive.db; relative → under data_dir.
std::string resolve_path(const std::string &configured, const std::string &data_dir) {
    std::filesystem::path p(configured.empty() ? std::string("archive.db") : configured);
    if (p.is_relative() && !data_dir.empty()) p = std::filesystem::path(data_dir) / p;
    return p.string();
}

std::string synchronous_mode(const std::string &value) {
    if (value == "normal" || value == "full" || value == "extra") return value;
    throw ConfigError("synchronous",
                      "expected normal, full or extra, got \"" + value +
                          "\"; full (the default) keeps every archived message through a power cut, normal is "
                          "faster and may lose the last few on one");
}

uint32_t rank_window(int64_t value) {
    if (value < 0 || value > 100'000'000)
        throw ConfigError("rank_window", "expected a number of matches from 0 (score them all) to 100000000, got " +
                                             std::to_string(value));
    return static_cast<uint32_t>(value);
}

uint32_t index_every(int64_t value) {
    if (value < 1 || value > 1'000'000)
        throw ConfigError("index_every", "expected a number of rows from 1 (index each message as it is stored) to "
                                         "1000000, got " + std::to_string(value));
    return static_cast<uint32_t>(value);
}

} // namespace

class ArchiveSqlite : public Plugin {
public:
    explicit ArchiveSqlite(Host &host)
        : Plugin(host), db_(Options{resolve_path(host.config_string("path"), host.data_dir()),
                                    synchronous_mode(host.config_string("synchronous", "full")),
                                    host.config_duration_ms("busy_timeout", 5000),
                                    rank_window(host.config_int("rank_window", 20000)),
                                    index_every(host.config_int("index_every", 10000))}) {}

    void start() override {
        std::filesystem::path parent = std::filesystem::path(db_.path()).parent_path();
        std::error_code ec;
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        try {
            db_.open();
        } catch (const SqliteError &e) {
            throw std::runtime_error(std::string(e.what()) + " (check that path names a writable file)");
        }
        host().log_info("archive open at " + db_.path());
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        const std::string &key = m.id.empty() ? d.delivery_key : m.id;
        try {
            Stored s = db_.store(m, key, d.reply_to, now_ms());
            if (s.duplicate) host().counter_add("duplicates_skipped");
            else host().counter_add("messages_stored");
            if (!s.duplicate && s.applied_to) {
                host().counter_add(m.kind == Kind::edit ? "edits_applied" : "deletes_applied");
            }
            return DeliverResult::ok(std::to_string(s.rowid));
        } catch (const SqliteError &e) {
            host().counter_add("store_errors");
            std::string error = "cannot archive message " + key + " in " + db_.path() + ": " + e.what();
            if (e.temporary()) return DeliverResult::retry(error, 1000);
            return DeliverResult::failed(error);
        }
    }

    // A backlog arrives here in batches: one transaction for them all (group commit), which is what keeps the
    // full-text index's cost per message close to a bulk insert's.
    std::vector<DeliverResult> deliver_batch(const std::vector<BatchItem> &items) {
        std::vector<Database::ToStore> batch;
        batch.reserve(items.size());
        for (const BatchItem &item : items)
            batch.push_back({&item.message, item.message.id.empty() ? item.delivery.delivery_key : item.message.id,
                             item.delivery.reply_to});
        std::vector<DeliverResult> results;
        try {
            std::vector<Stored> stored = db_.store_batch(batch, now_ms());
            for (size_t i = 0; i < stored.size(); ++i) {
                const Stored &s = stored[i];
                if (s.duplicate) host().counter_add("duplicates_skipped");
                else host().counter_add("messages_stored");
                if (!s.duplicate && s.applied_to)
                    host().counter_add(items[i].message.kind == Kind::edit ? "edits_applied" : "deletes_applied");
                results.push_back(DeliverResult::ok(std::to_string(s.rowid)));
            }
        } catch (const SqliteError &e) {
            host().counter_add("store_errors");
            std::string error = "cannot archive " + std::to_string(items.size()) + " message(s) in " + db_.path() +
                                ": " + e.what();
            // Nothing of the batch was stored. The first is retried on its own (the host retries one at a time),
            // the others are offered again: a message that cannot be stored is found alone and fails alone.
            results.assign(1, DeliverResult::retry(error, e.temporary() ? 1000 : 0));
        }
        return results;
    }

    std::vector<SearchHit> search(const SearchRequest &r) override {
        std::string error;
        auto fts = to_fts_query(r.query, [this](std::string_view t) { return db_.has_tokens(t); }, error);
        if (!fts) throw std::runtime_error(error);
        uint32_t limit = r.limit == 0 ? default_limit : std::min(r.limit, max_limit);
        try {
            return db_.search(*fts, limit, r.order);
        } catch (const SqliteError &e) {
            throw std::runtime_error("archive search in " + db_.path() + " failed: " + e.what());
        }
    }

    void stop() override { db_.close(); }

private:
    Database db_;
};

} // namespace relais::archive_sqlite

static const relais_config_key archive_sqlite_keys[] = {
    {"path", RELAIS_CONFIG_STRING, nullptr, 0,
     "the SQLite database file; a relative path is under the instance's data folder; default <data_dir>/archive.db"},
    {"synchronous", RELAIS_CONFIG_STRING, "full", 0,
     "SQLite synchronous mode: full (every archived message survives a power cut), normal (faster: a power cut may "
     "lose the last few) or extra"},
    {"busy_timeout", RELAIS_CONFIG_DURATION, "5s", 0,
     "how long to wait for another process (such as `relais archive search`) holding the database lock"},
    {"rank_window", RELAIS_CONFIG_INT, "20000", 0,
     "ranked search scores the newest this many matches of a query (about 1 ms per 1000 on one core); 0 scores "
     "them all"},
    {"index_every", RELAIS_CONFIG_INT, "10000", 0,
     "stored messages are added to the full-text index in bulk, once this many wait (and before every search, so "
     "a search finds them all): larger is faster to archive; 1 indexes each message as it is stored"},
};

RELAIS_PLUGIN(relais::archive_sqlite::ArchiveSqlite, "archive-sqlite", "1.0.0",
              "Archives messages in SQLite with full-text search (FTS5)", RELAIS_CAP_SINK | RELAIS_CAP_ARCHIVE,
              RELAIS_LEVEL_SECRET, archive_sqlite_keys)
