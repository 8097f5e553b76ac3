#include "core/pipeline.hpp"
#include "test_config.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

using namespace relais;

namespace {
// A destination that records what it is given and fails as told.
struct Recorder {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<DeliveryJob> delivered;
    int fail_first = 0; // answer RETRY to this many attempts first
    uint32_t retry_after_ms = 0;
    int attempts = 0;

    DeliveryOutcome deliver(const DeliveryJob &job) {
        std::lock_guard lock(mutex);
        ++attempts;
        if (fail_first > 0) {
            --fail_first;
            return {RELAIS_RETRY, retry_after_ms, {}, "busy"};
        }
        delivered.push_back(job);
        changed.notify_all();
        return {RELAIS_DELIVERED, 0, "n" + std::to_string(delivered.size()), {}};
    }
    bool wait_for(size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(10), [&] { return delivered.size() >= n; });
    }
};

Message text(const std::string &t) {
    Message m;
    m.text = t;
    return m;
}
} // namespace

TEST_CASE("the pipeline stamps, routes and delivers in order") {
    Diagnostics d("t.yaml");
    RouteTable t = test::routes_from("  - name: all\n    from: feed\n    do: [{ relay: { to: team, template: \"{author}: {text}\" } }]\n", d);
    REQUIRE(d.empty());
    Metrics metrics;
    Pipeline p(std::move(t), metrics);
    Recorder rec;
    rec.fail_first = 2; // the first message is retried twice: the others must wait behind it
    p.add_destination("team", std::make_unique<DestinationQueue>(
                                  "team", [&](const DeliveryJob &j) { return rec.deliver(j); },
                                  RetryPolicy{10, std::chrono::milliseconds(1), std::chrono::milliseconds(5)}, metrics));
    p.start_delivery();
    for (int i = 0; i < 100; ++i) {
        Message m = text("message " + std::to_string(i));
        m.author = "alice";
        REQUIRE(p.accept("feed", std::move(m)) == RELAIS_OK);
    }
    REQUIRE(rec.wait_for(100));
    for (int i = 0; i < 100; ++i) {
        CHECK(rec.delivered[i].rendered == "alice: message " + std::to_string(i));
        CHECK(rec.delivered[i].message.source == "feed");
        CHECK(rec.delivered[i].message.network == "rss");
        CHECK(rec.delivered[i].message.id.size() == 26);
        CHECK(rec.delivered[i].message.level == Level::public_); // the source's level, as none was set
    }
    CHECK(rec.delivered[0].attempts == 3);
    CHECK(metrics.value("relais_deliveries_total", {{"destination", "team"}, {"result", "retried"}}) == 2);
    CHECK(metrics.value("relais_messages_received_total", {{"source", "feed"}}) == 100);
    p.close_intake();
    CHECK(p.accept("feed", text("late")) == RELAIS_E_STOPPING);
    CHECK(p.drain(std::chrono::seconds(1)) == 0);
}

TEST_CASE("a delivery that keeps failing becomes a dead letter and the next one goes") {
    Diagnostics d("t.yaml");
    RouteTable t = test::routes_from("  - name: all\n    do: [{ relay: { to: team } }]\n", d);
    Metrics metrics;
    Pipeline p(std::move(t), metrics);
    Recorder rec;
    rec.fail_first = 3;
    p.add_destination("team", std::make_unique<DestinationQueue>(
                                  "team", [&](const DeliveryJob &j) { return rec.deliver(j); },
                                  RetryPolicy{3, std::chrono::milliseconds(1), std::chrono::milliseconds(2)}, metrics));
    p.start_delivery();
    REQUIRE(p.accept("feed", text("doomed")) == RELAIS_OK);
    REQUIRE(p.accept("feed", text("fine")) == RELAIS_OK);
    REQUIRE(rec.wait_for(1));
    CHECK(rec.delivered[0].message.text == "fine");
    CHECK(metrics.value("relais_deliveries_total", {{"destination", "team"}, {"result", "dead_letter"}}) == 1);
    p.drain(std::chrono::seconds(1));
}

TEST_CASE("a retry waits for the delay the destination asked for") {
    Diagnostics d("t.yaml");
    RouteTable t = test::routes_from("  - name: all\n    do: [{ relay: { to: team } }]\n", d);
    Metrics metrics;
    Pipeline p(std::move(t), metrics);
    Recorder rec;
    rec.fail_first = 1;
    rec.retry_after_ms = 300;
    p.add_destination("team", std::make_unique<DestinationQueue>(
                                  "team", [&](const DeliveryJob &j) { return rec.deliver(j); },
                                  RetryPolicy{5, std::chrono::milliseconds(1), std::chrono::milliseconds(2)}, metrics));
    p.start_delivery();
    auto start = std::chrono::steady_clock::now();
    REQUIRE(p.accept("feed", text("later")) == RELAIS_OK);
    REQUIRE(rec.wait_for(1));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
    p.drain(std::chrono::seconds(1));
}

TEST_CASE("confidential messages are refused and counted") {
    Diagnostics d("t.yaml");
    RouteTable t = test::routes_from("  - name: out\n    do: [{ relay: { to: outside } }]\n", d);
    Metrics metrics;
    Pipeline p(std::move(t), metrics);
    Recorder rec;
    p.add_destination("outside", std::make_unique<DestinationQueue>(
                                     "outside", [&](const DeliveryJob &j) { return rec.deliver(j); }, RetryPolicy{},
                                     metrics));
    p.start_delivery();
    Message m = text("secret plan");
    m.level = Level::confidential;
    REQUIRE(p.accept("chat", std::move(m)) == RELAIS_OK);
    CHECK(metrics.value("relais_confidentiality_refusals_total", {{"destination", "outside"}}) == 1);
    p.drain(std::chrono::milliseconds(200));
    CHECK(rec.attempts == 0);
}

TEST_CASE("a backlog leaves in batches, in order, a failure in a batch is retried alone, the rest offered again") {
    Metrics metrics;
    Recorder rec;
    std::vector<size_t> batch_sizes;
    bool failed_once = false;
    auto batch = [&](const std::vector<const DeliveryJob *> &jobs) {
        std::vector<DeliveryOutcome> out;
        std::lock_guard lock(rec.mutex);
        batch_sizes.push_back(jobs.size());
        for (const DeliveryJob *job : jobs) {
            CHECK(job->attempts == 1);
            if (job->message.text == "m5" && !failed_once) {
                failed_once = true;
                out.push_back({RELAIS_RETRY, 0, {}, "busy"});
                break; // the plugin stops at the failure; the host offers the rest again
            }
            rec.delivered.push_back(*job);
            out.push_back({RELAIS_DELIVERED, 0, "n", {}});
        }
        rec.changed.notify_all();
        return out;
    };
    DestinationQueue q("team", [&](const DeliveryJob &j) { return rec.deliver(j); },
                       RetryPolicy{10, std::chrono::milliseconds(1), std::chrono::milliseconds(5)}, metrics, nullptr,
                       batch);
    for (int i = 0; i < 10; ++i) {
        DeliveryJob j;
        j.message = text("m" + std::to_string(i));
        q.push(std::move(j));
    }
    DeliveryJob reply; // a reply looks up its original's id: it goes alone
    reply.message = text("reply");
    reply.message.reply_to = "m0-native";
    q.push(std::move(reply));
    q.start();
    REQUIRE(rec.wait_for(11));
    q.stop(std::chrono::milliseconds(1000));
    std::vector<std::string> order;
    for (const auto &j : rec.delivered) order.push_back(j.message.text);
    CHECK(order == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "reply"});
    // First the whole run of first attempts up to the reply; m5 failed and went alone through deliver(); then the
    // rest as a batch; the reply alone.
    REQUIRE(batch_sizes.size() == 2);
    CHECK(batch_sizes[0] == 10);
    CHECK(batch_sizes[1] == 4);
    CHECK(rec.attempts == 2); // m5 retried through deliver(), and the reply
}

TEST_CASE("a batch a source emits is routed message by message and stored in one commit, in order") {
    Diagnostics d("t.yaml");
    RouteTable t = test::routes_from(R"(  - name: all
    from: feed
    do: [{ relay: { to: team } }]
  - name: spam
    when: { keywords: [casino] }
    do: [drop]
)", d);
    REQUIRE(d.empty());
    const auto path = std::filesystem::temp_directory_path() / "relais-pipeline-batch.db";
    for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    Metrics metrics;
    Outbox outbox({path.string()}, metrics);
    Pipeline p(std::move(t), metrics, &outbox);
    Recorder rec;
    p.add_destination("team", std::make_unique<DestinationQueue>(
                                  "team", [&](const DeliveryJob &j) { return rec.deliver(j); },
                                  RetryPolicy{10, std::chrono::milliseconds(1), std::chrono::milliseconds(5)}, metrics));
    outbox.start([&](const std::string &destination, DeliveryJob job) { p.dispatch(destination, std::move(job)); });
    p.start_delivery();

    auto accept_batch = [&](std::vector<Message> batch) {
        std::promise<int> accepted;
        auto result = accepted.get_future();
        p.accept_batch_async("feed", std::move(batch), [&](int r) { accepted.set_value(r); });
        return result.get();
    };
    const double commits = metrics.value("relais_outbox_commits_total");
    std::vector<Message> batch;
    for (int i = 0; i < 50; ++i) batch.push_back(text(i == 20 ? "win at the casino" : "line " + std::to_string(i)));
    batch[30].native_id = batch[31].native_id = "same"; // a repeat inside the batch: relayed once
    REQUIRE(accept_batch(std::move(batch)) == RELAIS_OK);
    CHECK(metrics.value("relais_outbox_commits_total") == commits + 1);
    REQUIRE(rec.wait_for(48));
    std::vector<std::string> order;
    for (const auto &j : rec.delivered) order.push_back(j.message.text);
    std::vector<std::string> expected;
    for (int i = 0; i < 50; ++i)
        if (i != 20 && i != 31) expected.push_back("line " + std::to_string(i));
    CHECK(order == expected);
    CHECK(metrics.value("relais_messages_received_total", {{"source", "feed"}}) == 50);

    CHECK(accept_batch({text("casino only"), text("another casino")}) == RELAIS_OK); // all dropped: nothing stored
    CHECK(accept_batch({}) == RELAIS_OK);
    p.close_intake();
    CHECK(accept_batch({text("late")}) == RELAIS_E_STOPPING);
    CHECK(p.drain(std::chrono::seconds(1)) == 0);
    outbox.stop();
}

TEST_CASE("a channel whose delivery is retried holds back only itself, and each channel keeps its order") {
    for (bool batches : {false, true}) {
        INFO((batches ? "with deliver_batch" : "one delivery at a time"));
        Metrics metrics;
        std::mutex mutex;
        std::condition_variable changed;
        std::vector<std::string> delivered; // channel + text, in delivery order
        int closed_refusals = 3;            // #closed refuses the first three attempts
        auto one = [&](const DeliveryJob &j) -> DeliveryOutcome {
            std::lock_guard lock(mutex);
            if (j.channel == "#closed" && closed_refusals > 0) {
                --closed_refusals;
                return {RELAIS_RETRY, 200, {}, "cannot send to #closed"};
            }
            delivered.push_back(j.channel + " " + j.message.text);
            changed.notify_all();
            return {RELAIS_DELIVERED, 0, "n", {}};
        };
        DestinationQueue::BatchFn batch;
        if (batches)
            batch = [&](const std::vector<const DeliveryJob *> &jobs) {
                std::vector<DeliveryOutcome> out;
                for (const DeliveryJob *j : jobs) {
                    out.push_back(one(*j));
                    if (out.back().status != RELAIS_DELIVERED) break;
                }
                return out;
            };
        DestinationQueue q("irc", one, RetryPolicy{10, std::chrono::milliseconds(1), std::chrono::milliseconds(5)},
                           metrics, nullptr, batch);
        for (std::string name : {"#closed m0", "#open m1", "#open m2", "#closed m3", "#open m4", "#closed m5"}) {
            DeliveryJob j;
            j.channel = name.substr(0, name.find(' '));
            j.message = text(name.substr(name.find(' ') + 1));
            q.push(std::move(j));
        }
        q.start();
        {
            std::unique_lock lock(mutex);
            REQUIRE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return delivered.size() == 6; }));
        }
        q.stop(std::chrono::milliseconds(1000));
        // #open did not wait for #closed's retries; within each channel, the order it was given.
        CHECK(std::vector<std::string>(delivered.begin(), delivered.begin() + 3) ==
              std::vector<std::string>{"#open m1", "#open m2", "#open m4"});
        CHECK(std::vector<std::string>(delivered.begin() + 3, delivered.end()) ==
              std::vector<std::string>{"#closed m0", "#closed m3", "#closed m5"});
        CHECK(metrics.value("relais_deliveries_total", {{"destination", "irc"}, {"result", "retried"}}) == 3);
        CHECK(q.depth() == 0);
    }
}

TEST_CASE("invalid UTF-8 in any field a plugin gives is repaired, so the stored message reads back after a restart") {
    Diagnostics d("t.yaml");
    RouteTable t = test::routes_from("  - name: all\n    do: [{ relay: { to: team } }]\n", d);
    REQUIRE(d.empty());
    const auto path = std::filesystem::temp_directory_path() / "relais-pipeline-utf8.db";
    for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    const std::string bad = "a\xff" "b\xc3"; // a stray byte, and a sequence cut short
    const std::string repaired = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD";
    Message m = text("text " + bad);
    m.channel = m.native_id = m.author = m.author_id = m.thread_id = m.reply_to = m.language = bad;
    m.tags = m.mentions = m.links = {bad};
    m.attachments = {{bad, bad, bad, 1}};
    m.metadata = {{bad, bad}};
    {
        Metrics metrics;
        Outbox outbox({path.string()}, metrics);
        Pipeline p(std::move(t), metrics, &outbox);
        auto down = [](const DeliveryJob &) { return DeliveryOutcome{RELAIS_RETRY, 60'000, {}, "down"}; };
        p.add_destination("team", std::make_unique<DestinationQueue>("team", down, RetryPolicy{}, metrics, &outbox));
        outbox.start([&](const std::string &destination, DeliveryJob job) { p.dispatch(destination, std::move(job)); });
        p.start_delivery();
        REQUIRE(p.accept("feed", Message(m)) == RELAIS_OK);
        p.close_intake();
        p.drain(std::chrono::milliseconds(0));
        outbox.stop();
    }
    Metrics metrics;
    Outbox reopened({path.string()}, metrics);
    auto pending = reopened.recover();
    REQUIRE(pending.size() == 1);
    const Message &back = pending[0].job.message;
    CHECK(back.text == "text " + repaired); // not "(unreadable stored message: …)"
    for (const std::string *field : {&back.channel, &back.native_id, &back.author, &back.author_id, &back.thread_id,
                                     &back.reply_to, &back.language, &back.tags.at(0), &back.mentions.at(0),
                                     &back.links.at(0), &back.attachments.at(0).url, &back.attachments.at(0).mime_type,
                                     &back.attachments.at(0).name, &back.metadata.at(0).first,
                                     &back.metadata.at(0).second})
        CHECK(*field == repaired);
}
