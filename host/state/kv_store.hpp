// The plugins' small persistent key-value store: one SQLite file (state.db), one namespace per instance.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace relais {

class KvStore {
public:
    // Opens (and creates) the database file. Throws std::runtime_error naming the file on failure.
    explicit KvStore(const std::string &path);
    ~KvStore();
    KvStore(const KvStore &) = delete;
    KvStore &operator=(const KvStore &) = delete;

    std::optional<std::string> get(std::string_view ns, std::string_view key);
    bool put(std::string_view ns, std::string_view key, std::string_view value);
    bool erase(std::string_view ns, std::string_view key);

private:
    std::mutex mutex_;
    sqlite3 *db_ = nullptr;
    sqlite3_stmt *get_ = nullptr, *put_ = nullptr, *erase_ = nullptr;
};

} // namespace relais
