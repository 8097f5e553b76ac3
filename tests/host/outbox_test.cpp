#include "deliver/outbox.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <future>
#include <mutex>
#include <set>
#include <thread>

using namespace relais;

namespace {
std::string fresh_path(const char *name) {
    auto p = std::filesystem::temp_directory_path() / name;
    for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
    return p.string();
}
DeliveryJob job(const std::string &text, const std::string &native = {}) {
    DeliveryJob j;
    j.message.id = "id-" + text;
    j.message.source = "inbox";
    j.message.native_id = native;
    j.message.text = text;
    j.rendered = "> " + text;
    j.delivery_key = j.message.id + ":team";
    j.route = "r";
    return j;
}
struct Collected {
    std::mutex mutex;
    std::vector<std::pair<std::string, DeliveryJob>> jobs;
    void add(const std::string &d, DeliveryJob j) {
        std::lock_guard lock(mutex);
        jobs.emplace_back(d, std::move(j));
    }
};
} // namespace

TEST_CASE("stored deliveries survive a restart, in order, until delivered") {
    const std::string path = fresh_path("relais-outbox-test-1.db");
    Metrics metrics;
    {
        Outbox outbox({path}, metrics);
        Collected got;
        outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
        for (int i = 0; i < 5; ++i)
            REQUIRE(outbox.store("inbox", {}, {{"team", job("m" + std::to_string(i))}}) == Outbox::Result::stored);
        REQUIRE(got.jobs.size() == 5);
        CHECK(got.jobs[0].second.seq < got.jobs[4].second.seq);
        outbox.delivered(got.jobs[0].second, "team", "native-0");
        outbox.stop();
    }
    Outbox again({path}, metrics);
    auto pending = again.recover();
    REQUIRE(pending.size() == 4);
    CHECK(pending[0].job.message.text == "m1");
    CHECK(pending[3].job.message.text == "m4");
    CHECK(pending[0].job.rendered == "> m1");
    CHECK(pending[0].job.delivery_key == "id-m1:team");
}

TEST_CASE("a message seen within the window is a duplicate") {
    Metrics metrics;
    Outbox outbox({fresh_path("relais-outbox-test-2.db")}, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    CHECK(outbox.store("inbox", "n:42", {{"team", job("a", "42")}}) == Outbox::Result::stored);
    CHECK(outbox.store("inbox", "n:42", {{"team", job("a again", "42")}}) == Outbox::Result::duplicate);
    CHECK(outbox.store("other", "n:42", {{"team", job("same id, other source", "42")}}) == Outbox::Result::stored);
    CHECK(got.jobs.size() == 2);
    outbox.stop();
}

TEST_CASE("store_async answers after the commit, in the order of the calls, and at once once stopped") {
    Metrics metrics;
    Outbox outbox({fresh_path("relais-outbox-test-6.db")}, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    std::mutex mutex;
    std::condition_variable answered;
    std::vector<std::pair<int, Outbox::Result>> results;
    std::vector<size_t> dispatched_before; // how many deliveries had reached their queue when each answer came
    for (int i = 0; i < 50; ++i) {
        std::string key = i == 49 ? "n:0" : "n:" + std::to_string(i); // the last repeats the first: a duplicate
        outbox.store_async("inbox", key, {{"team", job("m" + std::to_string(i))}}, [&, i](Outbox::Result r) {
            size_t dispatched;
            {
                std::lock_guard lock(got.mutex);
                dispatched = got.jobs.size();
            }
            std::lock_guard lock(mutex);
            results.emplace_back(i, r);
            dispatched_before.push_back(dispatched);
            answered.notify_all();
        });
    }
    {
        std::unique_lock lock(mutex);
        REQUIRE(answered.wait_for(lock, std::chrono::seconds(10), [&] { return results.size() == 50; }));
    }
    for (int i = 0; i < 50; ++i) {
        CHECK(results[i].first == i);
        CHECK(results[i].second == (i == 49 ? Outbox::Result::duplicate : Outbox::Result::stored));
        if (i < 49) CHECK(dispatched_before[i] >= static_cast<size_t>(i + 1)); // stored and queued, then answered
    }
    REQUIRE(got.jobs.size() == 49);
    CHECK(got.jobs[48].second.message.text == "m48");

    outbox.stop();
    bool called = false;
    outbox.store_async("inbox", {}, {{"team", job("late")}}, [&](Outbox::Result r) {
        called = true;
        CHECK(r == Outbox::Result::failed);
    });
    CHECK(called); // on the caller's thread, before store_async returned
}

TEST_CASE("a batch of messages is stored in one commit, in order, and repeats inside it are skipped") {
    Metrics metrics;
    Outbox outbox({fresh_path("relais-outbox-test-7.db")}, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    REQUIRE(outbox.store("inbox", "n:0", {{"team", job("m0", "0")}}) == Outbox::Result::stored);
    const double commits = metrics.value("relais_outbox_commits_total");

    auto store_batch = [&](std::vector<std::pair<std::string, std::string>> keyed_texts) {
        std::vector<Outbox::Keyed> batch;
        for (auto &[key, text] : keyed_texts) {
            std::vector<Outbox::Entry> entries;
            entries.emplace_back("team", job(text));
            entries.emplace_back("archive", job(text));
            batch.push_back({key, std::move(entries)});
        }
        std::promise<Outbox::Result> result;
        auto future = result.get_future();
        outbox.store_async("inbox", std::move(batch), [&](Outbox::Result r) { result.set_value(r); });
        return future.get();
    };
    // n:0 was stored before, n:2 comes twice: each is stored once.
    CHECK(store_batch({{"n:1", "m1"}, {"n:0", "m0 again"}, {"n:2", "m2"}, {"n:2", "m2 again"}, {"", "m3"}}) ==
          Outbox::Result::stored);
    CHECK(metrics.value("relais_outbox_commits_total") == commits + 1);
    CHECK(metrics.value("relais_messages_duplicate_total") == 2);
    std::vector<std::string> order;
    for (const auto &[destination, j] : got.jobs) order.push_back(destination + ":" + j.message.text);
    CHECK(order == std::vector<std::string>{"team:m0", "team:m1", "archive:m1", "team:m2", "archive:m2", "team:m3",
                                            "archive:m3"});
    for (size_t i = 1; i < got.jobs.size(); ++i) CHECK(got.jobs[i - 1].second.seq < got.jobs[i].second.seq);

    CHECK(store_batch({{"n:1", "m1 later"}, {"n:2", "m2 later"}}) == Outbox::Result::duplicate); // all repeats
    CHECK(got.jobs.size() == 7);
    outbox.stop();
}

TEST_CASE("ids are mapped across networks and our own posts are recognised") {
    Metrics metrics;
    Outbox outbox({fresh_path("relais-outbox-test-3.db")}, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    REQUIRE(outbox.store("inbox", {}, {{"team", job("original", "src-1")}}) == Outbox::Result::stored);
    outbox.delivered(got.jobs[0].second, "team", "dst-9");
    CHECK(outbox.mapped_id("inbox", "src-1", "team") == "dst-9");
    CHECK(outbox.posted_by_us("team", "dst-9"));
    CHECK_FALSE(outbox.posted_by_us("team", "dst-10"));
    outbox.stop();
}

TEST_CASE("a dead letter can be listed, replayed and dropped") {
    Metrics metrics;
    Outbox outbox({fresh_path("relais-outbox-test-4.db")}, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    REQUIRE(outbox.store("inbox", {}, {{"team", job("doomed")}, {"team", job("also doomed")}}) ==
            Outbox::Result::stored);
    outbox.dead(got.jobs[0].second, "HTTP 400");
    outbox.dead(got.jobs[1].second, "HTTP 400");
    // Outcomes are written asynchronously: a replay goes through the same writer, after them.
    auto dead = outbox.dead_letters();
    for (int i = 0; i < 100 && dead.size() < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        dead = outbox.dead_letters();
    }
    REQUIRE(dead.size() == 2);
    CHECK(dead[0].last_error == "HTTP 400");
    CHECK(outbox.replay(dead[0].seq));
    CHECK(got.jobs.size() == 3);
    CHECK(got.jobs[2].second.message.text == "doomed");
    CHECK(outbox.drop(dead[1].seq));
    CHECK_FALSE(outbox.drop(dead[1].seq));
    CHECK(outbox.dead_letters().empty());
    outbox.stop();
}

TEST_CASE("a held delivery waits on its own shelf until approved or dropped") {
    Metrics metrics;
    Outbox outbox({fresh_path("relais-outbox-test-5.db")}, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    REQUIRE(outbox.store("inbox", {},
                         {{"outside", job("by a speaker")},
                          {"outside", job("by someone else"), "author 'bob' is not a speaker of route 'publish'"},
                          {"outside", job("also someone else"), "route 'publish' holds every message"}}) ==
            Outbox::Result::stored);
    // Only the speaker's delivery went on its way; the two others are held, and are not dead letters.
    REQUIRE(got.jobs.size() == 1);
    CHECK(got.jobs[0].second.message.text == "by a speaker");
    auto held = outbox.dead_letters(Shelf::held);
    REQUIRE(held.size() == 2);
    CHECK(held[0].last_error == "author 'bob' is not a speaker of route 'publish'");
    CHECK(outbox.dead_letters().empty());
    CHECK_FALSE(outbox.replay(held[0].seq));  // a dead-letter replay does not publish a held delivery
    CHECK_FALSE(outbox.drop(held[0].seq));

    CHECK(outbox.replay(held[0].seq, Shelf::held)); // approve
    REQUIRE(got.jobs.size() == 2);
    CHECK(got.jobs[1].first == "outside");
    CHECK(got.jobs[1].second.message.text == "by someone else");
    CHECK(got.jobs[1].second.seq > 0);
    CHECK(outbox.drop(held[1].seq, Shelf::held));
    CHECK(outbox.dead_letters(Shelf::held).empty());
    CHECK(got.jobs.size() == 2);
    CHECK(metrics.prometheus().find("relais_held_total 2") != std::string::npos);
    outbox.stop();
}

namespace {
// Salt-1 of a WAL file's header: SQLite changes it each time the log restarts from the top.
uint32_t wal_salt(const std::string &wal) {
    std::FILE *f = std::fopen(wal.c_str(), "rb");
    if (!f) return 0;
    unsigned char header[20] = {0};
    size_t n = std::fread(header, 1, sizeof header, f);
    std::fclose(f);
    if (n < sizeof header) return 0;
    return (uint32_t(header[16]) << 24) | (uint32_t(header[17]) << 16) | (uint32_t(header[18]) << 8) | header[19];
}
} // namespace

TEST_CASE("under steady commits the log still restarts: it does not grow without end") {
    const std::string path = fresh_path("relais-outbox-test-8.db");
    Metrics metrics;
    Outbox::Settings settings;
    settings.path = path;
    settings.checkpoint_every = std::chrono::milliseconds(50);
    Outbox outbox(settings, metrics);
    outbox.start([&](const std::string &, DeliveryJob j) { outbox.delivered(j, "team", ""); });

    // One commit after another, with no pause for a checkpoint to catch up, for at most 10 s.
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; !done && i < 1'000'000; ++i)
            outbox.store("inbox", {}, {{"team", job("steady " + std::to_string(i))}});
    });
    std::set<uint32_t> salts;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (salts.size() < 4 && std::chrono::steady_clock::now() < until) {
        if (uint32_t salt = wal_salt(path + "-wal")) salts.insert(salt);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done = true;
    writer.join();
    outbox.stop();
    CHECK(salts.size() >= 4); // the first log and at least three restarts
}

namespace {
// A plain SQLite connection, to write a file as an earlier Relais did and to look inside one.
struct RawDb {
    sqlite3 *db = nullptr;
    explicit RawDb(const std::string &path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
    ~RawDb() { sqlite3_close(db); }
    void exec(const char *sql) {
        char *err = nullptr;
        int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
        INFO((err ? err : ""));
        sqlite3_free(err);
        REQUIRE(rc == SQLITE_OK);
    }
    std::string text(const char *sql) {
        sqlite3_stmt *s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
        std::string out;
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            out = reinterpret_cast<const char *>(sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        return out;
    }
};
// The outbox as Relais wrote it before schema version 1 (tests/host/outbox-v0.sql), with a few rows.
void write_version_0(const std::string &path) {
    RawDb old(path);
    std::ifstream schema(RELAIS_OUTBOX_V0_SQL);
    REQUIRE(schema);
    old.exec(std::string(std::istreambuf_iterator<char>(schema), {}).c_str());
    old.exec(R"sql(
INSERT INTO outbox VALUES (3, 'team', 'general', 'r', 'k3', '{"id":"m3","text":"third"}', '> third', 2, 'timeout', 1);
INSERT INTO outbox VALUES (9, 'team', 'general', 'r', 'k9', '{"id":"m9","text":"ninth"}', '> ninth', 0, '', 2);
INSERT INTO dead_letters VALUES (4, 'team', 'general', 'r', 'k4', '{"id":"m4","text":"fourth"}', '> fourth', 5,
  'refused', 1, 3);
INSERT INTO id_map VALUES ('inbox', 'native-1', 'team', 'team-1', 'm1');
INSERT INTO seen VALUES ('inbox', 'native-1', 1);
DELETE FROM outbox WHERE seq = 9;
INSERT INTO outbox VALUES (7, 'team', 'general', 'r', 'k7', '{"id":"m7","text":"seventh"}', '> seventh', 0, '', 2);
)sql");
}
} // namespace

TEST_CASE("an outbox of an earlier Relais is upgraded in place: pending deliveries, dead letters and ids kept") {
    const std::string path = fresh_path("relais-outbox-test-9.db");
    write_version_0(path);
    {
        OutboxStore store(path);
        auto pending = store.pending();
        REQUIRE(pending.size() == 2);
        CHECK(pending[0].seq == 3);
        CHECK(pending[0].job.message.text == "third");
        CHECK(pending[0].job.attempts == 2);
        CHECK(pending[0].last_error == "timeout");
        CHECK(pending[1].seq == 7);
        CHECK(pending[1].job.rendered == "> seventh");
        auto dead = store.dead_letters();
        REQUIRE(dead.size() == 1);
        CHECK(dead[0].job.message.text == "fourth");
        CHECK(store.dead_letters(1000, Shelf::held).empty());
        CHECK(store.mapped_id("inbox", "native-1", "team") == "team-1");
        CHECK(store.posted_by_us("team", "team-1"));
        CHECK(store.seen_before("inbox", "native-1", 0, 5));
        // Mappings made before the upgrade count as made at the upgrade: kept a full retention from now on.
        const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        int64_t oldest = INT64_MAX;
        bool end = false;
        CHECK(store.expired_ids(now - 60'000, 100, oldest, end).empty());
        CHECK(end);
        CHECK(oldest >= now - 60'000); // made at the upgrade

        // A new delivery goes after the others (a seq is given again only once nothing refers to it).
        store.begin();
        CHECK(store.enqueue("team", job("new"), 10) == 8);
        CHECK(store.revive(4, 11) == 9);
        store.commit();
    }
    RawDb file(path);
    CHECK(file.text("PRAGMA user_version") == "2");
    CHECK(file.text("PRAGMA page_size") == "1024");
    CHECK(file.text("PRAGMA journal_mode") == "wal");
    CHECK(file.text("SELECT sql FROM sqlite_master WHERE name = 'outbox'").find("AUTOINCREMENT") == std::string::npos);
    CHECK(file.text("SELECT count(*) FROM sqlite_sequence WHERE name LIKE 'outbox%'") == "0");
    CHECK(file.text("SELECT group_concat(seq) FROM (SELECT seq FROM outbox ORDER BY seq)") == "3,7,8,9");
    CHECK(file.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("an old outbox another process has open keeps its pages until it is opened alone") {
    const std::string path = fresh_path("relais-outbox-test-10.db");
    write_version_0(path);
    {
        RawDb other(path);
        other.exec("BEGIN; SELECT count(*) FROM outbox;"); // a reader in the middle of its transaction
        OutboxStore store(path);
        CHECK(store.pending().size() == 2); // upgraded all the same, apart from the page size
        other.exec("COMMIT");
    }
    {
        RawDb file(path);
        CHECK(file.text("PRAGMA page_size") == "4096");
        CHECK(file.text("PRAGMA user_version") == "2");
    }
    OutboxStore alone(path);
    RawDb file(path);
    CHECK(file.text("PRAGMA page_size") == "1024");
    CHECK(alone.pending().size() == 2);
}

TEST_CASE("an outbox written by a newer Relais is refused, naming the file") {
    const std::string path = fresh_path("relais-outbox-test-11.db");
    {
        RawDb newer(path);
        newer.exec("PRAGMA user_version = 99");
    }
    CHECK_THROWS_WITH(OutboxStore(path), Catch::Contains(path) && Catch::Contains("newer Relais"));
}

// What each commit writes to the log is what each checkpoint has to sync: under steady load that sync set the
// relay's p99. One message relayed: its key seen, its delivery stored, the previous one removed and its ids mapped.
TEST_CASE("a one-message commit writes a few KiB of log, not tens") {
    const std::string path = fresh_path("relais-outbox-test-12.db");
    OutboxStore store(path);
    auto commit_one = [&](int i) {
        store.begin();
        const std::string n = std::to_string(1'000'000 + i); // sortable, like the api's native ids
        store.seen_before("inbox", "in-" + n, 0, i);
        int64_t seq = store.enqueue("team", job("message " + n, "in-" + n), i);
        if (seq > 1) store.remove(seq - 1);
        store.map_ids("inbox", "in-" + n, "team", "out-" + n, "id-" + n, i);
        store.commit();
    };
    for (int i = 0; i < 500; ++i) commit_one(i); // past the first pages' splits
    const auto before = std::filesystem::file_size(path + "-wal");
    constexpr int commits = 500;
    for (int i = 500; i < 500 + commits; ++i) commit_one(i);
    const double per_commit = double(std::filesystem::file_size(path + "-wal") - before) / commits;
    INFO("log bytes per commit: " << per_commit);
    CHECK(per_commit < 8 * 1024); // 4 KiB pages and AUTOINCREMENT wrote about 24 KiB
}

TEST_CASE("expired keys and id mappings are found a slice at a time, all of them in one pass") {
    const std::string path = fresh_path("relais-outbox-test-13.db");
    OutboxStore store(path);
    auto padded = [](int i) {
        std::string n = std::to_string(i);
        return std::string(4 - n.size(), '0') + n;
    };
    store.begin();
    for (int i = 0; i < 1000; ++i) { // seen and mapped at i ms, two sources interleaved
        store.seen_before(i % 2 ? "a" : "b", "key-" + padded(i), 0, i);
        store.map_ids(i % 2 ? "a" : "b", "n" + padded(i), "team", "t" + padded(i), "m" + padded(i), i);
    }
    store.commit();

    // 1,000 keys, 300 a slice: the fourth slice reaches the end, the fifth starts over.
    std::vector<SeenKey> seen;
    std::vector<IdKey> ids;
    int64_t oldest_seen = INT64_MAX, oldest_id = INT64_MAX;
    for (int slice = 0; slice < 4; ++slice) {
        bool seen_end = false, ids_end = false;
        auto more_seen = store.expired_seen(500, 300, oldest_seen, seen_end);
        auto more_ids = store.expired_ids(500, 300, oldest_id, ids_end);
        CHECK(more_seen.size() < 300); // only the expired ones among the 300 keys read
        CHECK(more_ids.size() == more_seen.size());
        CHECK(seen_end == (slice == 3));
        CHECK(ids_end == (slice == 3));
        seen.insert(seen.end(), more_seen.begin(), more_seen.end());
        ids.insert(ids.end(), more_ids.begin(), more_ids.end());
    }
    CHECK(seen.size() == 500);
    CHECK(ids.size() == 500);
    CHECK(oldest_seen == 500); // the oldest of those kept
    CHECK(oldest_id == 500);
    bool end = false;
    CHECK(store.expired_seen(500, 300, oldest_seen, end).front().key == "key-0001"); // starting over: "a" first

    store.begin();
    CHECK_FALSE(store.seen_before("b", "key-0000", 400, 2000)); // seen again since: renewed, not forgotten
    store.forget_seen(seen, 500);
    store.forget_ids(ids, 500);
    store.commit();
    CHECK_FALSE(store.mapped_id("b", "n0002", "team"));
    CHECK_FALSE(store.posted_by_us("team", "t0499"));
    CHECK(store.mapped_id("b", "n0500", "team") == "t0500");
    CHECK(store.posted_by_us("team", "t0999"));
    // A mapping made before `since` is not used, whether or not it was deleted yet.
    CHECK(store.mapped_id("b", "n0500", "team", 500) == "t0500");
    CHECK_FALSE(store.mapped_id("b", "n0500", "team", 501));
    CHECK(store.posted_by_us("team", "t0999", 999));
    CHECK_FALSE(store.posted_by_us("team", "t0999", 1000));
    RawDb file(path);
    CHECK(file.text("SELECT count(*) || ' ' || min(seen_ms) FROM seen") == "501 500");
    CHECK(file.text("SELECT count(*) || ' ' || min(mapped_ms) FROM id_map") == "500 500");
}

TEST_CASE("the running outbox forgets expired keys and mappings by itself") {
    const std::string path = fresh_path("relais-outbox-test-14.db");
    Metrics metrics;
    Outbox::Settings settings;
    settings.path = path;
    settings.dedupe_window = std::chrono::milliseconds(1);
    settings.id_map_retention = std::chrono::milliseconds(1);
    settings.checkpoint_every = std::chrono::milliseconds(20);
    Outbox outbox(settings, metrics);
    outbox.start([&](const std::string &, DeliveryJob j) { outbox.delivered(j, "team", "team-" + j.message.text); });
    for (int i = 0; i < 20; ++i) {
        const std::string n = std::to_string(i);
        REQUIRE(outbox.store("inbox", "key-" + n, {{"team", job(n, "native-" + n)}}) == Outbox::Result::stored);
    }
    RawDb file(path);
    auto rows = [&] { return file.text("SELECT (SELECT count(*) FROM seen) + (SELECT count(*) FROM id_map)"); };
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (rows() != "0" && std::chrono::steady_clock::now() < until) // the checkpointer finds them every 20 ms
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    CHECK(rows() == "0");
    outbox.stop();
}

TEST_CASE("a mapping older than id_map_retention is no longer used, even before it is deleted") {
    const std::string path = fresh_path("relais-outbox-test-15.db");
    Metrics metrics;
    Outbox::Settings settings;
    settings.path = path;
    settings.id_map_retention = std::chrono::milliseconds(1);
    settings.checkpoint_every = std::chrono::hours(1); // nothing is deleted during the test
    Outbox outbox(settings, metrics);
    Collected got;
    outbox.start([&](const std::string &d, DeliveryJob j) { got.add(d, std::move(j)); });
    REQUIRE(outbox.store("inbox", {}, {{"team", job("original", "src-1")}}) == Outbox::Result::stored);
    outbox.delivered(got.jobs[0].second, "team", "dst-9");
    RawDb file(path);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (file.text("SELECT count(*) FROM id_map") != "1" && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5)); // outcomes are written within 20 ms
    REQUIRE(file.text("SELECT count(*) FROM id_map") == "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(5)); // past the retention
    CHECK_FALSE(outbox.mapped_id("inbox", "src-1", "team")); // neither the cache nor the file answers
    CHECK_FALSE(outbox.posted_by_us("team", "dst-9"));
    CHECK(file.text("SELECT count(*) FROM id_map") == "1");
    outbox.stop();
}
