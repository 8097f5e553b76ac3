// archive-sqlite driven through the real plugin ABI with FakeHost, on a real SQLite file in a temporary folder.
#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using relais::Delivery;
using relais::Kind;
using relais::Message;
using relais::testing::FakeHost;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "relais-archive-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::unique_ptr<FakeHost> archive(const TempDir &dir, FakeHost::Config config = {}) {
    auto host = std::make_unique<FakeHost>(relais_plugin_entry(), std::move(config), "archive", dir.path.string());
    host->start();
    return host;
}

Message message(std::string id, std::string text, std::vector<std::string> tags = {}) {
    Message m;
    m.id = std::move(id);
    m.source = "rse";
    m.network = "xmpp";
    m.channel = "veille@conference.acme.example";
    m.native_id = "native-" + m.id;
    m.author = "Alice Martin";
    m.author_id = "alice@acme.example";
    m.text = std::move(text);
    m.tags = std::move(tags);
    m.level = relais::Level::internal;
    m.created_at_ms = 1700000000000;
    m.received_at_ms = 1700000000500;
    return m;
}

// Plain SQL on the archive file, as a user (or another tool) would run it beside the daemon.
struct RawSql {
    sqlite3 *db = nullptr;
    explicit RawSql(const fs::path &file) {
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
    }
    ~RawSql() { sqlite3_close(db); }
    void exec(const std::string &sql) {
        char *error = nullptr;
        int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
        INFO(sql << ": " << (error ? error : ""));
        sqlite3_free(error);
        REQUIRE(rc == SQLITE_OK);
    }
    int64_t integer(const std::string &sql) {
        sqlite3_stmt *s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(s) == SQLITE_ROW);
        int64_t v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
    }
    int64_t indexed_up_to() { return integer("SELECT indexed_up_to FROM messages_fts_progress"); }
    void check_index() { exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')"); }
};

std::vector<std::string> ids(const std::vector<relais::SearchHit> &hits) {
    std::vector<std::string> out;
    for (const auto &h : hits) out.push_back(h.message.id);
    return out;
}

} // namespace

TEST_CASE("archive: a stored message is found by a word, with its row id and a bracketed snippet", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    auto r = host->deliver(message("m1", "Le concurrent RivalCorp a gagné l'appel d'offres"));
    REQUIRE(r.status == RELAIS_DELIVERED);
    CHECK(r.native_id == "1");
    CHECK(host->metric("messages_stored") == 1);

    auto hits = host->search("rivalcorp");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].message.id == "m1");
    CHECK(hits[0].message.text == "Le concurrent RivalCorp a gagné l'appel d'offres");
    CHECK(hits[0].snippet.find("[RivalCorp]") != std::string::npos);
    CHECK(host->search("absent").empty());
    CHECK(fs::exists(dir.path / "archive.db"));
}

TEST_CASE("archive: a message tagged #veille is found by veille and #veille, untagged text only by veille",
          "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    host->deliver(message("tagged", "Nouvelle offre chez RivalCorp", {"veille"}));
    host->deliver(message("untagged", "je suis de veille ce soir"));

    auto by_word = host->search("veille");
    CHECK(by_word.size() == 2);
    auto by_tag = host->search("#veille");
    REQUIRE(by_tag.size() == 1);
    CHECK(by_tag[0].message.id == "tagged");
    CHECK(by_tag[0].snippet == "#[veille]");
    CHECK(by_tag[0].score == 3.0); // newest first scores the matches, weighted by column: a tag counts 3
    CHECK(by_tag[0].message.tags == std::vector<std::string>{"veille"});
    CHECK(host->search("tag:veil*").size() == 1);
}

TEST_CASE("archive: newest first by default, limit honoured", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    for (int i = 0; i < 30; ++i) host->deliver(message("m" + std::to_string(i), "weekly report number " + std::to_string(i)));
    auto hits = host->search("report", 5);
    CHECK(ids(hits) == std::vector<std::string>{"m29", "m28", "m27", "m26", "m25"});
    CHECK(host->search("report", 0).size() == 20); // 0 means the default limit
}

TEST_CASE("archive: ranked order puts the best match first, scores decreasing", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    host->deliver(message("weak", "A long message about many things: budget, holidays, the canteen, parking, "
                                  "the new coffee machine, and in passing rivalcorp once, then more unrelated words "
                                  "about the weather and the football results of the weekend"));
    host->deliver(message("strong", "RivalCorp RivalCorp: rivalcorp news", {"rivalcorp"}));
    host->deliver(message("newest", "nothing to see"));

    auto ranked = host->search("rivalcorp", 10, RELAIS_SEARCH_RANKED);
    REQUIRE(ids(ranked) == std::vector<std::string>{"strong", "weak"});
    CHECK(ranked[0].score > ranked[1].score);
    auto newest = host->search("rivalcorp", 10, RELAIS_SEARCH_NEWEST);
    CHECK(ids(newest) == std::vector<std::string>{"strong", "weak"}); // strong was stored after weak
    host->deliver(message("weak2", "rivalcorp appears once in this rather long and wordy text about other things"));
    CHECK(host->search("rivalcorp", 10, RELAIS_SEARCH_NEWEST)[0].message.id == "weak2");
    CHECK(host->search("rivalcorp", 10, RELAIS_SEARCH_RANKED)[0].message.id == "strong");
}

TEST_CASE("archive: ranked search scores only the newest rank_window matches", "[archive]") {
    TempDir dir;
    auto host = archive(dir, {{"rank_window", "2"}});
    host->deliver(message("best-but-old", "budget budget budget", {"budget"}));
    host->deliver(message("mid", "the budget is late and nobody knows why it is so late this year"));
    host->deliver(message("new", "budget meeting moved to the afternoon because of the strike"));
    CHECK(ids(host->search("budget", 10, RELAIS_SEARCH_RANKED)) == std::vector<std::string>{"new", "mid"});
    CHECK(host->search("budget", 10, RELAIS_SEARCH_NEWEST).size() == 3);

    TempDir all_dir;
    auto all = archive(all_dir, {{"rank_window", "0"}});
    all->deliver(message("best-but-old", "budget budget budget", {"budget"}));
    all->deliver(message("new", "budget meeting moved to the afternoon because of the strike"));
    CHECK(all->search("budget", 10, RELAIS_SEARCH_RANKED)[0].message.id == "best-but-old");
}

TEST_CASE("archive: delivering the same message twice stores it once", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    Message m = message("same", "duplicate candidate");
    auto first = host->deliver(m);
    Delivery retry;
    retry.attempt = 2;
    auto second = host->deliver(m, retry);
    REQUIRE(second.status == RELAIS_DELIVERED);
    CHECK(second.native_id == first.native_id);
    CHECK(host->search("duplicate").size() == 1);
    CHECK(host->metric("messages_stored") == 1);
    CHECK(host->metric("duplicates_skipped") == 1);

    // Without a message id the delivery key makes it idempotent.
    Message anonymous = message("", "anonymous candidate");
    Delivery d;
    d.delivery_key = "key-1";
    CHECK(host->deliver(anonymous, d).native_id == host->deliver(anonymous, d).native_id);
    CHECK(host->search("anonymous").size() == 1);
}

TEST_CASE("archive: every field survives a reopen of the file", "[archive]") {
    TempDir dir;
    Message m = message("full", "Thread reply with everything", {"veille", "archive"});
    m.kind = Kind::reply;
    m.thread_id = "thread-1";
    m.reply_to = "native-parent";
    m.mentions = {"bob@acme.example"};
    m.links = {"https://example.org/post/1", "https://example.org/other"};
    m.attachments = {{"https://example.org/a.png", "image/png", "a.png", 1234}};
    m.level = relais::Level::confidential;
    m.language = "fr";
    m.trace = {"rse", "router"};
    m.metadata = {{"room", "veille"}, {"x", "1"}, {"x", "2"}};
    {
        auto host = archive(dir);
        REQUIRE(host->deliver(m).status == RELAIS_DELIVERED);
    }
    auto host = archive(dir); // a new instance on the same file
    auto hits = host->search("everything");
    REQUIRE(hits.size() == 1);
    const Message &got = hits[0].message;
    CHECK(got.id == m.id);
    CHECK(got.source == m.source);
    CHECK(got.network == m.network);
    CHECK(got.channel == m.channel);
    CHECK(got.native_id == m.native_id);
    CHECK(got.kind == Kind::reply);
    CHECK(got.author == m.author);
    CHECK(got.author_id == m.author_id);
    CHECK(got.text == m.text);
    CHECK(got.tags == m.tags);
    CHECK(got.mentions == m.mentions);
    CHECK(got.links == m.links);
    REQUIRE(got.attachments.size() == 1);
    CHECK(got.attachments[0].url == "https://example.org/a.png");
    CHECK(got.attachments[0].mime_type == "image/png");
    CHECK(got.attachments[0].name == "a.png");
    CHECK(got.attachments[0].size_bytes == 1234);
    CHECK(got.thread_id == "thread-1");
    CHECK(got.reply_to == "native-parent");
    CHECK(got.level == relais::Level::confidential);
    CHECK(got.language == "fr");
    CHECK(got.created_at_ms == m.created_at_ms);
    CHECK(got.received_at_ms == m.received_at_ms);
    CHECK(got.trace == m.trace);
    CHECK(got.metadata == m.metadata);
    // And it is still stored once.
    CHECK(host->deliver(m).native_id == "1");
}

TEST_CASE("archive: an edit updates the original's text, a delete hides it", "[archive]") {
    TempDir dir;
    // Indexed at once, or in bulk later (the first edit then changes a row not indexed yet).
    auto host = archive(dir, {{"index_every", GENERATE(as<std::string>{}, "1", "10000")}});
    Message original = message("orig", "first draft about pricing", {"veille"});
    auto stored = host->deliver(original);

    Message edit = message("edit1", "final version about pricing");
    edit.kind = Kind::edit;
    edit.native_id = "native-edit1";
    edit.reply_to = original.native_id;
    REQUIRE(host->deliver(edit).status == RELAIS_DELIVERED);
    CHECK(host->metric("edits_applied") == 1);
    CHECK(host->search("draft").empty());
    auto hits = host->search("final");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].message.id == "orig");
    CHECK(hits[0].message.text == "final version about pricing");
    CHECK(host->search("#veille").size() == 1); // the edit carried no tags: the original keeps its own

    // An edit naming the original by its archive row id (Delivery::reply_to), with new tags.
    Message edit2 = message("edit2", "third version");
    edit2.kind = Kind::edit;
    edit2.native_id = "native-edit2";
    edit2.tags = {"archive"};
    Delivery d;
    d.reply_to = stored.native_id;
    host->deliver(edit2, d);
    CHECK(host->search("#veille").empty());
    REQUIRE(host->search("#archive").size() == 1);
    CHECK(host->search("#archive")[0].message.text == "third version");

    Message del = message("del1", "");
    del.kind = Kind::remove;
    del.native_id = "native-del1";
    del.reply_to = original.native_id;
    REQUIRE(host->deliver(del).status == RELAIS_DELIVERED);
    CHECK(host->metric("deletes_applied") == 1);
    CHECK(host->search("third").empty());
    CHECK(host->search("pricing").empty());

    // An edit whose original was never archived is kept as a message of its own.
    Message orphan = message("orphan", "orphan edit text");
    orphan.kind = Kind::edit;
    orphan.reply_to = "never-seen";
    host->deliver(orphan);
    CHECK(ids(host->search("orphan")) == std::vector<std::string>{"orphan"});
}

TEST_CASE("archive: prefixes, phrases, accents, authors", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    host->deliver(message("a", "Une étude sur l'appel d'offres européen"));
    Message b = message("b", "offres: appel reporté");
    b.author = "Jean Dupont";
    host->deliver(b);

    CHECK(host->search("etude").size() == 1); // accents ignored
    CHECK(host->search("europ*").size() == 1);
    CHECK(ids(host->search("\"appel d'offres\"")) == std::vector<std::string>{"a"});
    CHECK(host->search("appel offres").size() == 2);
    CHECK(ids(host->search("author:dupont")) == std::vector<std::string>{"b"});
    CHECK(ids(host->search("appel -reporté")) == std::vector<std::string>{"a"});
}

TEST_CASE("archive: hostile queries give results or a clear error, never an FTS5 error", "[archive][fuzz]") {
    TempDir dir;
    auto host = archive(dir);
    host->deliver(message("x", "AND OR NEAR veille 🙂 \"quoted\" star* émoji", {"veille"}));

    const std::vector<std::string> queries = {
        "\"", "\"\"", "AND OR", "AND", "OR NOT", "*", "**", "NEAR(", "NEAR(a b", "(", ")", "veille)", "-", "--x",
        "{", "}", ":", "text:", "author:\"", "^veille", "+veille", "🙂", "veille 🙂", "émoji", "\xFF\xFE",
        "\"veille", "ve\"il\"le", "#", "##veille", "tag:*", "a\tb\nc", std::string("nul\0byte", 8), "col:x",
        "NOT veille", "veille NOT", "*veille", "veille*)", "rank:veille", "x:y:z"};
    for (const auto &q : queries) {
        INFO("query: " << q);
        try {
            auto hits = host->search(q, 10, RELAIS_SEARCH_RANKED);
            host->search(q, 10, RELAIS_SEARCH_NEWEST);
        } catch (const std::runtime_error &e) {
            std::string what = e.what();
            CHECK(what.find("archive search in") == std::string::npos); // that prefix means SQLite refused it
            CHECK(what.find("fts5") == std::string::npos);
        }
    }
    CHECK(host->search("AND OR").size() == 1);       // the words "and" and "or"
    CHECK(host->search("veille 🙂").size() == 1);     // the emoji has no token and is dropped
    CHECK(host->search("NEAR(").size() == 1);

    std::mt19937 rng(7);
    const std::string alphabet = "\"*-#:(){}^+ NOTANDORveil\xC3\xA9\xF0\x9F\x99\x82\t";
    for (int round = 0; round < 2000; ++round) {
        std::string q;
        for (int i = 0, n = static_cast<int>(rng() % 12) + 1; i < n; ++i) q += alphabet[rng() % alphabet.size()];
        INFO("query: " << q);
        try {
            host->search(q, 5, round % 2 ? RELAIS_SEARCH_RANKED : RELAIS_SEARCH_NEWEST);
        } catch (const std::runtime_error &e) {
            REQUIRE(std::string(e.what()).find("archive search in") == std::string::npos);
        }
    }
}

TEST_CASE("archive: an empty query is a clear error", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    try {
        host->search("   ");
        FAIL("an empty search must be refused");
    } catch (const std::runtime_error &e) {
        CHECK(std::string(e.what()).find("nothing to search for") != std::string::npos);
    }
}

TEST_CASE("archive: deliver and search from different threads at once", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    std::atomic<bool> done{false};
    std::atomic<int> search_errors{0}, searches{0};
    std::thread reader([&] {
        while (!done) {
            try {
                host->search("concurrent", 5);
                host->search("concurrent", 5, RELAIS_SEARCH_RANKED);
                ++searches;
            } catch (...) {
                ++search_errors;
            }
        }
    });
    int delivered = 0;
    for (int i = 0; i < 300; ++i)
        if (host->deliver(message("c" + std::to_string(i), "concurrent write " + std::to_string(i))).status ==
            RELAIS_DELIVERED)
            ++delivered;
    done = true;
    reader.join();
    CHECK(delivered == 300);
    CHECK(search_errors == 0);
    CHECK(searches > 0);
    CHECK(host->search("concurrent", 1000).size() == 300);
}

TEST_CASE("archive: a second instance on the same file reads what the first writes", "[archive]") {
    TempDir dir;
    auto daemon = archive(dir);
    auto cli = archive(dir); // like `relais archive search` while the daemon runs
    CHECK(cli->search("later").empty());
    daemon->deliver(message("later", "written later by the daemon"));
    CHECK(ids(cli->search("later")) == std::vector<std::string>{"later"});
    // And the other way round: both may write, each message is stored once.
    CHECK(cli->deliver(message("later", "written later by the daemon")).native_id == "1");
}

TEST_CASE("archive: another process searches while this one writes", "[archive]") {
    TempDir dir;
    auto reader = archive(dir); // opened first, like `relais archive search` started before the daemon writes
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) { // the writing process: its own plugin instance, its own connections
        int failures = 0;
        try {
            FakeHost writer(relais_plugin_entry(), {}, "archive", dir.path.string());
            writer.start();
            for (int i = 0; i < 200; ++i)
                if (writer.deliver(message("p" + std::to_string(i), "from another process")).status !=
                    RELAIS_DELIVERED)
                    ++failures;
        } catch (...) {
            ++failures;
        }
        _exit(failures == 0 ? 0 : 1); // never return into the test runner from the child
    }
    int searches = 0, errors = 0;
    size_t seen = 0;
    for (;;) {
        int status = 0;
        pid_t done = waitpid(child, &status, WNOHANG);
        try {
            auto hits = reader->search("another process", 1000);
            CHECK(hits.size() >= seen); // rows only ever appear
            seen = hits.size();
            ++searches;
        } catch (const std::exception &) {
            ++errors;
        }
        if (done == child) {
            REQUIRE(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
            break;
        }
    }
    CHECK(errors == 0);
    CHECK(searches > 0);
    CHECK(reader->search("another process", 1000).size() == 200);
}

TEST_CASE("archive: path config and errors", "[archive]") {
    TempDir dir;
    {
        auto host = archive(dir, {{"path", "sub/dir/my.db"}, {"synchronous", "normal"}});
        host->deliver(message("p", "placed"));
    }
    CHECK(fs::exists(dir.path / "sub/dir/my.db"));
    CHECK_FALSE(fs::exists(dir.path / "archive.db"));

    std::string absolute = (dir.path / "abs.db").string();
    archive(dir, {{"path", absolute}});
    CHECK(fs::exists(absolute));

    try {
        FakeHost bad(relais_plugin_entry(), {{"synchronous", "sometimes"}}, "archive", dir.path.string());
        FAIL("a bad synchronous value must be refused");
    } catch (const std::runtime_error &e) {
        CHECK(std::string(e.what()).find("synchronous: expected normal, full or extra") != std::string::npos);
    }
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), {{"rank_window", "-1"}}, "archive", dir.path.string()),
                      Catch::Contains("rank_window: expected a number of matches"));

    // A path that cannot be a file: start() fails with a message naming it.
    fs::create_directories(dir.path / "blocker");
    FakeHost blocked(relais_plugin_entry(), {{"path", (dir.path / "blocker").string()}}, "archive",
                     dir.path.string());
    try {
        blocked.start();
        FAIL("opening a directory as the archive must fail");
    } catch (const std::runtime_error &e) {
        CHECK(std::string(e.what()).find("blocker") != std::string::npos);
    }
}

TEST_CASE("archive: the constructor opens nothing, search before start is an error", "[archive]") {
    TempDir dir;
    FakeHost host(relais_plugin_entry(), {}, "archive", dir.path.string());
    CHECK_FALSE(fs::exists(dir.path / "archive.db"));
    CHECK_THROWS(host.search("x"));
    CHECK(host.deliver(message("early", "too early")).status == RELAIS_RETRY);
}

TEST_CASE("archive: a batch is stored in one go, in order, and a repeated batch stores nothing new", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    std::vector<relais::BatchItem> items;
    for (int i = 0; i < 50; ++i) items.push_back({message("b" + std::to_string(i), "batched note " + std::to_string(i)), {}});
    items.push_back({message("b7", "a repeat of b7 inside the batch"), {}}); // the same id: stored once
    auto results = host->deliver_batch(items);
    REQUIRE(results.size() == items.size());
    for (const auto &r : results) CHECK(r.status == RELAIS_DELIVERED);
    CHECK(results[51 - 1].native_id == results[7].native_id);
    CHECK(std::stoll(results[49].native_id) > std::stoll(results[0].native_id)); // stored in order
    CHECK(host->search("batched", 100).size() == 50);
    CHECK(host->metric("messages_stored") == 50);

    auto again = host->deliver_batch(items); // a redelivery after a crash: same rows, nothing new
    REQUIRE(again.size() == items.size());
    CHECK(again[0].native_id == results[0].native_id);
    CHECK(host->search("batched", 100).size() == 50);
    CHECK(host->metric("duplicates_skipped") == 1 + 51);

    // An edit in the same batch as its original finds it (the host passes no reply_to in batches: by native id).
    Message original = message("orig", "first wording");
    Message edit = message("edit", "second wording");
    edit.kind = Kind::edit;
    edit.reply_to = original.native_id;
    auto edited = host->deliver_batch({{original, {}}, {edit, {}}});
    REQUIRE(edited.size() == 2);
    CHECK(host->search("second").size() == 1);
    CHECK(host->search("first").empty());
}

TEST_CASE("archive: stored rows are indexed in bulk, and a search first indexes those that wait", "[archive]") {
    TempDir dir;
    auto host = archive(dir, {{"index_every", "3"}});
    RawSql sql(dir.path / "archive.db");
    for (int i = 1; i <= 5; ++i) {
        REQUIRE(host->deliver(message("m" + std::to_string(i), "bulk word " + std::to_string(i))).status ==
                RELAIS_DELIVERED);
        CHECK(sql.integer("SELECT count(*) FROM messages") == i); // durable at once, indexed or not
        CHECK(sql.indexed_up_to() == (i < 3 ? 0 : 3));             // the third delivery indexed three rows
    }
    CHECK(host->search("bulk", 10).size() == 5); // the search indexed rows 4 and 5 before reading
    CHECK(sql.indexed_up_to() == 5);
    sql.check_index();

    auto fresh = archive(dir, {{"index_every", "3"}}); // a second process sees what the first stored
    REQUIRE(host->deliver(message("m6", "bulk word six")).status == RELAIS_DELIVERED);
    CHECK(ids(fresh->search("six")) == std::vector<std::string>{"m6"});
}

TEST_CASE("archive: rows changed by hand, indexed or not, leave the index sound", "[archive]") {
    TempDir dir;
    auto host = archive(dir);
    RawSql sql(dir.path / "archive.db");
    host->deliver(message("a", "alpha indexed"));
    host->deliver(message("b", "bravo indexed"));
    host->deliver(message("c", "charlie indexed"));
    REQUIRE(host->search("indexed", 10).size() == 3);
    REQUIRE(sql.indexed_up_to() == 3);
    host->deliver(message("d", "delta waiting"));
    host->deliver(message("e", "echo waiting"));
    REQUIRE(sql.indexed_up_to() == 3);

    sql.exec("DELETE FROM messages WHERE id IN ('b', 'd')");       // one indexed, one not
    sql.exec("UPDATE messages SET text = 'echo edited' WHERE id = 'e'"); // not indexed yet
    sql.exec("UPDATE messages SET text = 'alpha edited' WHERE id = 'a'"); // indexed
    CHECK(ids(host->search("indexed", 10)) == std::vector<std::string>{"c"});
    CHECK(ids(host->search("edited", 10)) == std::vector<std::string>{"e", "a"});
    CHECK(host->search("waiting", 10).empty());
    sql.check_index();

    // The highest rows deleted by hand: SQLite gives their row ids again, at or below the indexed mark.
    sql.exec("DELETE FROM messages WHERE id = 'e'");
    const int64_t mark = sql.indexed_up_to();
    auto reused = host->deliver(message("f", "foxtrot reuses a row id"));
    REQUIRE(reused.status == RELAIS_DELIVERED);
    CHECK(std::stoll(reused.native_id) <= mark);
    CHECK(ids(host->search("foxtrot")) == std::vector<std::string>{"f"});
    sql.check_index();
}

TEST_CASE("archive: a file of schema version 2, every row indexed as stored, is upgraded in place", "[archive]") {
    TempDir dir;
    {
        auto host = archive(dir);
        host->deliver(message("old1", "stored by an older relais"));
        host->deliver(message("old2", "also older"));
        host->search("older"); // indexes both
    }
    { // back to what version 2 wrote: no progress table, triggers without a condition, a full thread index
        RawSql sql(dir.path / "archive.db");
        sql.exec(R"sql(
            DROP TABLE messages_fts_progress;
            DROP TRIGGER messages_fts_delete;
            DROP TRIGGER messages_fts_update;
            DROP INDEX messages_thread;
            CREATE INDEX messages_thread ON messages(thread_id);
            CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.searchable BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, text, author, tag_words)
                    VALUES ('delete', old.rowid, old.text, old.author, old.tag_words);
            END;
            PRAGMA user_version = 2;)sql");
    }
    auto host = archive(dir);
    RawSql sql(dir.path / "archive.db");
    CHECK(sql.integer("PRAGMA user_version") == 3);
    CHECK(sql.indexed_up_to() == 2);
    CHECK(ids(host->search("older", 10)) == std::vector<std::string>{"old2", "old1"});
    sql.exec("DELETE FROM messages WHERE id = 'old1'");
    host->deliver(message("new1", "stored after the upgrade"));
    CHECK(ids(host->search("stored", 10)) == std::vector<std::string>{"new1"}); // old1 left the index too
    sql.check_index();
}
