#include "scenarios.hpp"

#include "http_load.hpp"
#include "irc_client.hpp"
#include "measure.hpp"
#include "process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <unistd.h>

namespace relais::bench {

namespace {

std::string load_now() {
    std::string s = read_file("/proc/loadavg");
    return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1)); // the 1, 5 and 15 minute averages
}

// The real daemon on a generated config (host part added here) in a fresh folder; stopped when destroyed.
class Daemon {
public:
    Daemon(const Options &options, const std::string &plugins_and_routes) : keep_(options.keep_dirs) {
        dir_ = make_temp_dir("relay-bench-");
        uint16_t admin = free_port();
        write_file(dir_ + "/relais.yaml", "host:\n  data_dir: " + dir_ + "/data\n  admin: { listen: 127.0.0.1:" +
                                              std::to_string(admin) + " }\n" + plugins_and_routes);
        std::vector<std::string> argv{options.relais_bin, "run", "-c", dir_ + "/relais.yaml"};
        if (!options.plugin_dir.empty()) argv.insert(argv.end(), {"--plugin-dir", options.plugin_dir});
        child_ = std::make_unique<Child>(argv, dir_ + "/relais.log");
    }
    ~Daemon() {
        child_->stop();
        if (keep_) std::fprintf(stderr, "daemon folder kept: %s\n", dir_.c_str());
        else remove_tree(dir_);
    }
    pid_t pid() const { return child_->pid(); }
    void require_running() {
        if (!child_->running())
            throw std::runtime_error("relais exited early; its log:\n" + log_tail());
    }
    void require(bool ok, const std::string &what) {
        require_running();
        if (!ok) throw std::runtime_error(what + "; relais log:\n" + log_tail());
    }
    std::string log_tail() const {
        std::string log = read_file(dir_ + "/relais.log");
        return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
    }
    // Waits until every port listens (the instances are up), failing at once if the daemon exits.
    void wait_listening(std::initializer_list<uint16_t> ports, const std::string &what) {
        double deadline = wall_seconds() + 20;
        for (uint16_t port : ports)
            while (!relais::bench::wait_listening(port, 0.05)) {
                require_running();
                if (wall_seconds() > deadline) require(false, what + " did not listen within 20 s");
            }
    }

private:
    std::string dir_;
    bool keep_;
    std::unique_ptr<Child> child_;
};

// Measures the daemon around one run: idle memory first, then peak memory and CPU time while `run` works.
template <class Run> DaemonFigures measure_daemon(const Options &options, Daemon &daemon, Run run) {
    DaemonFigures f;
    ::usleep(static_cast<useconds_t>(options.idle_s * 1e6));
    auto before = read_process(daemon.pid());
    f.rss_idle_mib = before.rss_mib;
    f.anon_idle_mib = before.anon_mib;
    {
        RssSampler sampler(daemon.pid());
        run();
        f.rss_peak_mib = sampler.peak_mib();
        f.anon_peak_mib = sampler.peak_anon_mib();
    }
    auto after = read_process(daemon.pid());
    f.rss_peak_mib = std::max(f.rss_peak_mib, after.rss_mib);
    f.anon_peak_mib = std::max(f.anon_peak_mib, after.anon_mib);
    f.hwm_mib = after.hwm_mib;
    f.cpu_s = after.cpu_s - before.cpu_s;
    return f;
}

// `senders` threads, each with one keep-alive connection, POST their share of the messages one after the other;
// at a fixed rate, message k of sender s is due at start + (k·senders + s) / rate, and its latency counts from then.
void post_all(const Options &options, Tracker &tracker, unsigned senders, uint16_t port, const std::string &target,
              const std::string &author_field) {
    size_t per_sender = tracker.expected() / senders;
    int64_t start = now_ns() + 20'000'000;
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < senders; ++s)
        threads.emplace_back([&, s] {
            HttpPoster poster(port, target);
            double deadline = wall_seconds() + options.timeout_s;
            for (size_t k = 0; k < per_sender && wall_seconds() < deadline; ++k) {
                std::string body = "{\"text\":\"" + message_text(s, k) + "\",\"" + author_field + "\":\"sender" +
                                   std::to_string(s) + "\"}";
                int64_t due = start;
                if (options.rate > 0) {
                    due = start + static_cast<int64_t>(static_cast<double>(k * senders + s) * 1e9 / options.rate);
                    while (now_ns() < due) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now_ns()));
                    tracker.sent(s, k, due);
                } else {
                    tracker.sent(s, k, now_ns());
                }
                int status = poster.post(body);
                if (status != 200 && status != 202) tracker.send_failed();
            }
        });
    for (auto &t : threads) t.join();
}

// The baseline of the HTTP relays: the same senders and connections, posting to a trivial Beast echo server that
// counts each message as arrived when it reads the request.
RunFigures http_echo_baseline(const Options &options, unsigned senders) {
    Tracker tracker(senders, options.messages / senders);
    TrivialHttpServer echo([&](std::string_view body, int64_t at) {
        tracker.received(body, at);
        return std::string(body);
    });
    post_all(options, tracker, senders, echo.port(), "/api/message", "username");
    tracker.wait_all(options.timeout_s);
    return tracker.figures();
}

ScenarioResult start_result(const char *scenario, const char *baseline, unsigned senders, const Options &options) {
    ScenarioResult r;
    r.scenario = scenario;
    r.baseline_name = baseline;
    r.senders = senders;
    r.rate = options.rate;
    r.load_before = load_now();
    return r;
}

} // namespace

ScenarioResult run_api(const Options &options, unsigned senders) {
    auto r = start_result("api", "Beast HTTP echo", senders, options);
    r.baseline = http_echo_baseline(options, senders);

    uint16_t in = free_port(), out = free_port();
    Daemon daemon(options, "plugins:\n"
                           "  - { id: apiin, use: api, config: { port: " + std::to_string(in) + " } }\n"
                           "  - { id: apiout, use: api, config: { port: " + std::to_string(out) + " } }\n"
                           "routes:\n"
                           "  - { name: bench, from: apiin, do: [{ relay: { to: apiout } }] }\n");
    daemon.wait_listening({in, out}, "the api instances");
    Tracker tracker(senders, options.messages / senders);
    WebSocketReader reader(out, "/api/websocket", [&](std::string_view text, int64_t at) { tracker.received(text, at); });
    r.daemon = measure_daemon(options, daemon, [&] {
        post_all(options, tracker, senders, in, "/api/message", "username");
        tracker.wait_all(options.timeout_s);
    });
    r.relay = tracker.figures();
    r.load_after = load_now();
    return r;
}

ScenarioResult run_webhook(const Options &options, unsigned senders) {
    auto r = start_result("webhook", "Beast HTTP echo", senders, options);
    r.baseline = http_echo_baseline(options, senders);

    Tracker tracker(senders, options.messages / senders);
    size_t posts = 0; // the receiver runs on one thread
    TrivialHttpServer receiver([&](std::string_view body, int64_t at) {
        tracker.received(body, at); // the first "rb s…" is the message's text (before `rendered`)
        return "{\"id\":\"out-" + std::to_string(++posts) + "\"}";
    });
    uint16_t in = free_port();
    Daemon daemon(options, "plugins:\n"
                           "  - { id: hookin, use: webhook, config: { port: " + std::to_string(in) + ", path: /hook } }\n"
                           "  - { id: hookout, use: webhook, config: { url: \"http://127.0.0.1:" +
                               std::to_string(receiver.port()) + "/out\" } }\n"
                           "routes:\n"
                           "  - { name: bench, from: hookin, do: [{ relay: { to: hookout } }] }\n");
    daemon.wait_listening({in}, "the webhook instance");
    r.daemon = measure_daemon(options, daemon, [&] {
        post_all(options, tracker, senders, in, "/hook", "author");
        tracker.wait_all(options.timeout_s);
    });
    r.relay = tracker.figures();
    r.load_after = load_now();
    return r;
}

namespace {

// ngIRCd on a free port with the irc plugin's test configuration (flood penalties off).
class IrcServer {
public:
    explicit IrcServer(const Options &options) : port_(free_port()) {
        dir_ = make_temp_dir("relay-bench-ngircd-");
        std::string conf = read_file(options.ngircd_conf);
        if (conf.empty())
            throw std::runtime_error("cannot read the ngIRCd configuration " + options.ngircd_conf +
                                     " (give it with --ngircd-conf)");
        for (auto [key, value] : {std::pair<std::string, std::string>{"@PORT@", std::to_string(port_)}, {"@DIR@", dir_}})
            for (size_t at; (at = conf.find(key)) != std::string::npos;) conf.replace(at, key.size(), value);
        write_file(dir_ + "/ngircd.conf", conf);
        child_ = std::make_unique<Child>(std::vector<std::string>{options.ngircd_bin, "-n", "-f", dir_ + "/ngircd.conf"},
                                         dir_ + "/ngircd.log");
        double deadline = wall_seconds() + 10;
        while (!wait_listening(port_, 0.05))
            if (!child_->running() || wall_seconds() > deadline) {
                std::string log = read_file(dir_ + "/ngircd.log");
                child_->stop();
                remove_tree(dir_);
                throw std::runtime_error("ngIRCd (" + options.ngircd_bin + ") did not start (give its path with "
                                         "--ngircd; Debian package ngircd): " + log);
            }
    }
    ~IrcServer() {
        child_->stop();
        remove_tree(dir_);
    }
    uint16_t port() const { return port_; }

private:
    uint16_t port_;
    std::string dir_;
    std::unique_ptr<Child> child_;
};

// Each sender client says its share of the messages in its channel, as fast as the socket takes them, or at a
// fixed rate in all (due times as in post_all).
void say_all(const Options &options, Tracker &tracker, std::vector<std::unique_ptr<IrcClient>> &senders) {
    const size_t per_sender = tracker.expected() / senders.size(), count = senders.size();
    const int64_t start = now_ns() + 20'000'000;
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < count; ++s)
        threads.emplace_back([&, s] {
            for (size_t k = 0; k < per_sender; ++k) {
                int64_t due = now_ns();
                if (options.rate > 0) {
                    due = start + static_cast<int64_t>(static_cast<double>(k * count + s) * 1e9 / options.rate);
                    while (now_ns() < due) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now_ns()));
                }
                tracker.sent(s, k, due);
                if (!senders[s]->say(message_text(s, k))) tracker.send_failed();
            }
        });
    for (auto &t : threads) t.join();
}

std::vector<std::unique_ptr<IrcClient>> irc_senders(uint16_t port, const std::string &prefix, unsigned count,
                                                    const std::string &channel) {
    std::vector<std::unique_ptr<IrcClient>> clients;
    for (unsigned s = 0; s < count; ++s)
        clients.push_back(std::make_unique<IrcClient>(port, prefix + std::to_string(s), channel));
    return clients;
}

} // namespace

ScenarioResult run_irc(const Options &options, unsigned senders) {
    auto r = start_result("irc", "plain clients, same ngIRCd", senders, options);
    IrcServer server(options);
    {
        Tracker tracker(senders, options.messages / senders);
        IrcClient carol(server.port(), "carol", "#c", [&](std::string_view, std::string_view text, int64_t at) {
            tracker.received(text, at);
        });
        auto daves = irc_senders(server.port(), "dave", senders, "#c");
        say_all(options, tracker, daves);
        tracker.wait_all(options.timeout_s);
        r.baseline = tracker.figures();
    }

    Tracker tracker(senders, options.messages / senders);
    IrcClient bob(server.port(), "bob", "#b", [&](std::string_view from, std::string_view text, int64_t at) {
        if (from == "botb") tracker.received(text, at);
    });
    auto alices = irc_senders(server.port(), "alice", senders, "#a");
    std::string irc = "use: irc, config: { server: 127.0.0.1, port: " + std::to_string(server.port()) +
                      ", burst: 1000000, rate: 1000000";
    Daemon daemon(options, "plugins:\n"
                           "  - { id: irca, " + irc + ", nick: bota, channels: [\"#a\"] } }\n"
                           "  - { id: ircb, " + irc + ", nick: botb, channels: [\"#b\"] } }\n"
                           "routes:\n"
                           "  - { name: bench, from: irca, do: [{ relay: { to: ircb, template: \"<{author}> {text}\" } }] }\n");
    double deadline = wall_seconds() + 20;
    while (!(alices[0]->saw_join("bota") && bob.saw_join("botb")) && wall_seconds() < deadline) {
        daemon.require_running();
        ::usleep(20'000);
    }
    daemon.require(alices[0]->saw_join("bota") && bob.saw_join("botb"), "the bots did not join #a and #b within 20 s");
    r.daemon = measure_daemon(options, daemon, [&] {
        say_all(options, tracker, alices);
        tracker.wait_all(options.timeout_s);
    });
    r.relay = tracker.figures();
    r.load_after = load_now();
    return r;
}

} // namespace relais::bench
