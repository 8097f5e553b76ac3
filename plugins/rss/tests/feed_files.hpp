// feed_files.hpp — helpers of the plugin tests: a scratch folder and RSS documents written on the fly.
#pragma once

#include <relais/testing/fake_host.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace rss_test {

// A folder of its own under the system's temporary directory, removed at the end.
class ScratchDir {
public:
    ScratchDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("relais-rss-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string &name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

struct Item {
    std::string guid, title, date; // date in RFC 822, may be empty
};

// An RSS 2.0 document listing `items` in the given order (feeds put the newest first).
inline std::string rss(const std::vector<Item> &items, const std::string &title = "Test feed") {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>" + title +
                      "</title><link>https://feed.example/</link><language>en</language>\n";
    for (const auto &i : items) {
        out += "<item><guid isPermaLink=\"false\">" + i.guid + "</guid><title>" + i.title + "</title>" +
               "<link>https://feed.example/" + i.guid + "</link><description>About " + i.title +
               "</description><category>Tag-" + i.guid + "</category>";
        if (!i.date.empty()) out += "<pubDate>" + i.date + "</pubDate>";
        out += "</item>\n";
    }
    return out + "</channel></rss>\n";
}

inline void write_file(const std::string &path, const std::string &text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

// Fires the timers (as the host does every interval), then waits until `expected` more polls have finished:
// polls run on the plugin's own threads. The "polls" counter is the event; the wait is bounded.
inline void poll(relais::testing::FakeHost &host, int expected = 1) {
    const double before = host.metric("polls");
    host.run_timers();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (host.metric("polls") < before + expected && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(host.metric("polls") == before + expected);
}

} // namespace rss_test
