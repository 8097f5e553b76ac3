#include "deliver/outbox.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
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
