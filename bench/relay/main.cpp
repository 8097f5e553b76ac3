// relay-bench: the real daemon relaying real traffic — API to API, webhook to webhook, IRC to IRC through ngIRCd —
// each run beside its baseline on the same loopback path, with the daemon's memory and CPU time.
//
//   relay-bench --relais build/bin/relais --plugin-dir build/lib/relais/plugins
//               --scenario api --senders 1,4,16 --messages 10000 [--rate 2000] [--check]
#include "measure.hpp"
#include "scenarios.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <unistd.h>

using namespace relais::bench;

namespace {

std::string env_or(const char *name, const std::string &fallback) {
    const char *v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string ms(double v) { return fixed(v, v < 10 ? 3 : 1); }

void print_table(const std::vector<ScenarioResult> &results) {
    std::printf("\n| scenario | senders | rate | run | msg/s | / baseline | p50 ms | p90 ms | p99 ms | max ms | received |"
                 " lost | dup | out of order | RSS idle MiB | RSS peak MiB | VmHWM MiB | anon idle / peak MiB | CPU s |"
                " load before → after |\n");
    std::printf("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
                " ---: | ---: | ---: | ---: | --- |\n");
    for (auto &r : results) {
        std::string rate = r.rate > 0 ? grouped(r.rate) : "max";
        double ratio = r.baseline.msg_per_s > 0 ? r.relay.msg_per_s / r.baseline.msg_per_s : 0;
        auto row = [&](const char *run, const RunFigures &f, const std::string &vs, const std::string &daemon) {
            std::printf("| %s | %u | %s | %s | %s | %s | %s | %s | %s | %s | %zu/%zu | %zu | %zu | %zu | %s |\n",
                        r.scenario.c_str(), r.senders, rate.c_str(), run, grouped(f.msg_per_s).c_str(), vs.c_str(),
                        ms(f.p50_ms).c_str(), ms(f.p90_ms).c_str(), ms(f.p99_ms).c_str(), ms(f.max_ms).c_str(),
                        f.received, f.expected, f.lost, f.duplicates, f.out_of_order, daemon.c_str());
        };
        row("relais", r.relay, fixed(ratio, 2),
            fixed(r.daemon.rss_idle_mib, 1) + " | " + fixed(r.daemon.rss_peak_mib, 1) + " | " +
                fixed(r.daemon.hwm_mib, 1) + " | " + fixed(r.daemon.anon_idle_mib, 1) + " / " +
                fixed(r.daemon.anon_peak_mib, 1) + " | " + fixed(r.daemon.cpu_s, 2) + " | " + r.load_before + " → " +
                r.load_after);
        row(("baseline: " + r.baseline_name).c_str(), r.baseline, "1", " |  |  |  |  | ");
    }
}

std::string json_run(const RunFigures &f) {
    std::ostringstream o;
    o << "{\"msg_per_s\":" << fixed(f.msg_per_s, 1) << ",\"seconds\":" << fixed(f.seconds, 4) << ",\"p50_ms\":"
      << fixed(f.p50_ms, 4) << ",\"p90_ms\":" << fixed(f.p90_ms, 4) << ",\"p99_ms\":" << fixed(f.p99_ms, 4)
      << ",\"max_ms\":" << fixed(f.max_ms, 4) << ",\"expected\":" << f.expected << ",\"received\":" << f.received
      << ",\"lost\":" << f.lost << ",\"duplicates\":" << f.duplicates << ",\"out_of_order\":" << f.out_of_order
      << ",\"send_errors\":" << f.send_errors << ",\"unrecognised\":" << f.foreign << "}";
    return o.str();
}

std::string json_summary(const std::vector<ScenarioResult> &results) {
    std::ostringstream o;
    o << "{\"relay_bench\":[";
    for (size_t i = 0; i < results.size(); ++i) {
        auto &r = results[i];
        double ratio = r.baseline.msg_per_s > 0 ? r.relay.msg_per_s / r.baseline.msg_per_s : 0;
        o << (i ? "," : "") << "{\"scenario\":\"" << r.scenario << "\",\"senders\":" << r.senders
          << ",\"rate\":" << fixed(r.rate, 0) << ",\"ratio\":" << fixed(ratio, 3) << ",\"relay\":" << json_run(r.relay)
          << ",\"baseline\":" << json_run(r.baseline) << ",\"daemon\":{\"rss_idle_mib\":"
          << fixed(r.daemon.rss_idle_mib, 2) << ",\"rss_peak_mib\":" << fixed(r.daemon.rss_peak_mib, 2)
          << ",\"vmhwm_mib\":" << fixed(r.daemon.hwm_mib, 2) << ",\"anon_idle_mib\":"
          << fixed(r.daemon.anon_idle_mib, 2) << ",\"anon_peak_mib\":" << fixed(r.daemon.anon_peak_mib, 2) << ",\"cpu_s\":" << fixed(r.daemon.cpu_s, 3)
          << "},\"load_before\":\"" << r.load_before << "\",\"load_after\":\"" << r.load_after << "\"}";
    }
    o << "]}";
    return o.str();
}

} // namespace

int main(int argc, char **argv) {
    Options options;
    options.relais_bin = env_or("RELAIS_BIN", "relais");
    options.plugin_dir = env_or("RELAIS_PLUGIN_DIR", "");
    options.ngircd_bin = access("/usr/sbin/ngircd", X_OK) == 0 ? "/usr/sbin/ngircd" : "ngircd";
    options.ngircd_conf = std::string(RELAIS_SOURCE_DIR) + "/plugins/irc/tests/servers/ngircd.conf.in";
    std::vector<std::string> scenarios{"api"};
    std::vector<unsigned> senders{1, 4, 16};
    bool check = false;

    CLI::App app{"Relay benchmark: the real daemon relaying API→API, webhook→webhook and IRC→IRC, each beside a "
                 "baseline on the same loopback path"};
    app.add_option("--relais", options.relais_bin, "the relais binary (default: $RELAIS_BIN, else relais on PATH)");
    app.add_option("--plugin-dir", options.plugin_dir, "folder of the plugins (default: $RELAIS_PLUGIN_DIR)");
    app.add_option("--scenario", scenarios, "api, webhook, irc (several: comma-separated)")
        ->delimiter(',')
        ->check(CLI::IsMember({"api", "webhook", "irc"}));
    app.add_option("--senders", senders, "concurrent senders, one connection each (several: 1,4,16)")
        ->delimiter(',')
        ->check(CLI::Range(1u, 256u));
    app.add_option("--messages", options.messages, "messages a run, shared among the senders")
        ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
    app.add_option("--rate", options.rate, "messages a second in all (0: as fast as possible)")
        ->check(CLI::Range(0.0, 1e7));
    app.add_option("--timeout", options.timeout_s, "seconds allowed for the messages of one run to arrive")
        ->check(CLI::Range(1.0, 3600.0));
    app.add_option("--idle", options.idle_s, "seconds the daemon rests before its idle memory is read")
        ->check(CLI::Range(0.0, 60.0));
    app.add_option("--ngircd", options.ngircd_bin, "the ngIRCd binary");
    app.add_option("--ngircd-conf", options.ngircd_conf, "ngIRCd configuration template (@PORT@, @DIR@)");
    app.add_flag("--keep", options.keep_dirs, "keep the daemon's folder (config, log, data) of each run");
    app.add_flag("--check", check, "exit 1 unless every run got every message once, in order per sender");
    CLI11_PARSE(app, argc, argv);

    std::vector<ScenarioResult> results;
    std::fprintf(stderr, "%s\n", machine_load().c_str());
    try {
        for (auto &scenario : scenarios)
            for (unsigned c : senders) {
                if (options.messages < c) {
                    std::fprintf(stderr, "--messages %zu is fewer than %u senders\n", options.messages, c);
                    return 2;
                }
                std::fprintf(stderr, "%s, %u sender(s), %zu messages…\n", scenario.c_str(), c, options.messages);
                results.push_back(scenario == "api"       ? run_api(options, c)
                                  : scenario == "webhook" ? run_webhook(options, c)
                                                          : run_irc(options, c));
            }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "relay-bench: %s\n", e.what());
        return 2;
    }
    print_table(results);
    std::printf("%s\n", json_summary(results).c_str());
    if (check) {
        bool ok = true;
        for (auto &r : results)
            for (auto *f : {&r.relay, &r.baseline})
                if (!f->clean() || f->send_errors) {
                    std::fprintf(stderr, "check failed: %s, %u senders: %zu of %zu received, %zu lost, %zu duplicates, "
                                 "%zu out of order, %zu send errors\n", r.scenario.c_str(), r.senders, f->received,
                                 f->expected, f->lost, f->duplicates, f->out_of_order, f->send_errors);
                    ok = false;
                }
        return ok ? 0 : 1;
    }
    return 0;
}
