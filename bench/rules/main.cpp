// bench-rules: how many messages a second one core routes through the rule engine, with 10, 100 and 1,000
// routes, beside the cost of scanning each message once with one regular expression (the baseline).
//
//   bench-rules                       # the full run: 10, 100 and 1,000 routes, 3 s each
//   bench-rules --rules 100 --print-rules   # the YAML of the routes measured
//   bench-rules --messages 2000 --seconds 0.1 --max-passes 3 --verify --check   # the smoke test
#include "measure.hpp"
#include "reference.hpp"
#include "workload.hpp"

#include "config/config.hpp"
#include "route/router.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>

using namespace relais;
using namespace relais::bench;

namespace {

struct Row {
    size_t rules = 0;
    double matched = 0, deliveries = 0, baseline_hits = 0; // per message
    double engine_ns = 0, baseline_ns = 0;                   // CPU time per message, median of the passes
    double engine_best = 0, baseline_best = 0;               // the fastest pass: the least disturbed
    size_t passes = 0;
    bool baseline_ok = false;
};

// One pass over the corpus: CPU nanoseconds per message. `sink` keeps the work from being optimised away.
template <class F> double pass(std::vector<Message> &corpus, F &&one, uint64_t &sink) {
    double t0 = thread_cpu_seconds();
    for (auto &m : corpus) sink += one(m);
    return (thread_cpu_seconds() - t0) * 1e9 / static_cast<double>(corpus.size());
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"Rule engine micro-benchmark: messages per second per core, beside one RE2 scan per message"};
    std::vector<size_t> sizes{10, 100, 1000};
    size_t count = 20000, max_passes = 200;
    double seconds = 3;
    uint64_t seed = 1;
    bool verify = false, check = false, print_rules = false;
    app.add_option("--rules", sizes, "numbers of routes to measure")->delimiter(',');
    app.add_option("--messages", count, "messages in the corpus (each pass routes all of them)");
    app.add_option("--seconds", seconds, "time budget for each number of routes (engine and baseline together)");
    app.add_option("--max-passes", max_passes, "at most this many passes of each");
    app.add_option("--seed", seed, "seed of the corpus and the routes");
    app.add_flag("--verify", verify, "check every plan against the plain reference evaluation");
    app.add_flag("--check", check, "exit 1 unless the figures are sane (for the smoke test)");
    app.add_flag("--print-rules", print_rules, "print the routes' YAML and exit");
    CLI11_PARSE(app, argc, argv);
    if (count == 0) count = 1;

    Workload workload(seed);
    if (print_rules) {
        for (size_t n : sizes) std::cout << "routes:\n" << workload.routes_yaml(n);
        return 0;
    }

    std::vector<Message> corpus = workload.messages(count);
    std::vector<size_t> tag_counts;
    double bytes = 0;
    for (const auto &m : corpus) {
        tag_counts.push_back(m.tags.size());
        bytes += static_cast<double>(m.text.size());
    }
    auto restore = [&](Message &m, size_t i) { m.tags.resize(tag_counts[i]); }; // undo the tag action

    std::cout << "bench-rules: " << grouped(static_cast<double>(count)) << " messages (text " << fixed(bytes / count, 0)
              << " bytes on average), seed " << seed << ", " << machine_load() << "\n";
    std::cout << "CPU time of this thread per message, median of the passes; baseline: one RE2::PartialMatch per "
                 "message of one alternation of every keyword and regex of the routes\n";

    std::vector<Row> rows;
    bool sane = true;
    uint64_t sink = 0;
    for (size_t n : sizes) {
        Row row;
        row.rules = n;
        Diagnostics diags("bench.yaml");
        Config config = parse_config("plugins: []\nroutes:\n" + workload.routes_yaml(n), "bench.yaml", diags);
        RouteTable table = compile_routes(config, workload.instances(), diags);
        if (!diags.empty()) {
            for (const auto &d : diags.items()) std::cerr << d.str() << "\n";
            return 1;
        }
        RE2::Options options;
        options.set_log_errors(false);
        options.set_max_mem(int64_t{256} << 20);
        RE2 baseline(baseline_pattern(table), options);
        row.baseline_ok = baseline.ok();
        if (!row.baseline_ok)
            std::cerr << "the baseline for " << n << " routes does not compile: " << baseline.error() << "\n";
        Router router(std::move(table));

        // One pass to count what the messages match (and, with --verify, to compare with the reference).
        size_t matched = 0, deliveries = 0, hits = 0, mismatches = 0;
        for (size_t i = 0; i < corpus.size(); ++i) {
            Message &m = corpus[i];
            Message copy = m;
            Plan plan = router.route(m);
            matched += plan.matched_routes.size();
            deliveries += plan.deliveries.size();
            if (row.baseline_ok && RE2::PartialMatch(m.text, baseline)) ++hits;
            if (verify) {
                Plan expected = reference_route(router.table(), copy);
                std::string diff = plan_difference(plan, expected);
                if (diff.empty() && m.tags != copy.tags) diff = "tags after routing differ";
                if (!diff.empty() && mismatches++ < 5)
                    std::cerr << "MISMATCH with " << n << " routes, message " << m.id << " (\"" << m.text
                              << "\"): " << diff << "\n";
            }
            restore(m, i);
        }
        row.matched = static_cast<double>(matched) / count;
        row.deliveries = static_cast<double>(deliveries) / count;
        row.baseline_hits = static_cast<double>(hits) / count;
        if (verify) {
            std::cout << "verify, " << n << " routes: "
                      << (mismatches ? std::to_string(mismatches) + " MISMATCHES" : "every plan as the reference") << "\n";
            if (mismatches) sane = false;
        }

        // Timed passes, engine and baseline in turn, until the time budget is spent.
        std::vector<double> engine, base;
        Stopwatch budget;
        while ((engine.size() < 3 || budget.wall() < seconds) && engine.size() < max_passes) {
            size_t i = 0;
            engine.push_back(pass(corpus, [&](Message &m) {
                Plan plan = router.route(m);
                restore(m, i++);
                return plan.deliveries.size();
            }, sink));
            if (row.baseline_ok)
                base.push_back(pass(corpus, [&](Message &m) { return RE2::PartialMatch(m.text, baseline) ? 1 : 0; },
                                    sink));
        }
        row.passes = engine.size();
        row.engine_ns = median(engine);
        row.baseline_ns = row.baseline_ok ? median(base) : 0;
        row.engine_best = *std::min_element(engine.begin(), engine.end());
        row.baseline_best = row.baseline_ok ? *std::min_element(base.begin(), base.end()) : 0;
        rows.push_back(row);
        if (!(row.engine_ns > 0) || !std::isfinite(row.engine_ns)) sane = false;
        if (row.baseline_ok && (!(row.baseline_ns > 0) || !std::isfinite(row.baseline_ns))) sane = false;
    }

    std::cout << "\n  routes | matched | deliveries | engine ns/msg | engine msg/s | RE2 scan ns/msg | RE2 scan msg/s | "
                 "engine / RE2 | passes\n";
    std::cout << "         |   a msg |      a msg | median (best) |  a core, med | median   (best) |    a core, med | "
                 "median (best) |\n";
    std::cout << "  -------|---------|------------|---------------|--------------|-----------------|----------------|-"
                 "--------------|-------\n";
    for (const auto &r : rows) {
        char line[300];
        std::snprintf(line, sizeof line,
                      "  %6zu | %7.2f | %10.2f | %6.0f (%5.0f) | %12s | %6s  (%6s) | %14s | %5s  (%5s) | %6zu\n",
                      r.rules, r.matched, r.deliveries, r.engine_ns, r.engine_best, grouped(1e9 / r.engine_ns).c_str(),
                      r.baseline_ok ? fixed(r.baseline_ns, 0).c_str() : "n/a",
                      r.baseline_ok ? fixed(r.baseline_best, 0).c_str() : "n/a",
                      r.baseline_ok ? grouped(1e9 / r.baseline_ns).c_str() : "n/a",
                      r.baseline_ok ? fixed(r.engine_ns / r.baseline_ns, 2).c_str() : "n/a",
                      r.baseline_ok ? fixed(r.engine_best / r.baseline_best, 2).c_str() : "n/a", r.passes);
        std::cout << line;
    }
    if (rows.size() >= 2) {
        const Row &a = rows.front(), &b = rows.back();
        std::cout << "\n  " << b.rules / static_cast<double>(a.rules) << "x the routes cost "
                  << fixed(b.engine_ns / a.engine_ns, 2) << "x the time per message (best passes: "
                  << fixed(b.engine_best / a.engine_best, 2) << "x)\n";
    }
    for (const auto &r : rows)
        if (r.rules == 100)
            std::cout << "  target, 1,000,000 msg/s per core with 100 routes: "
                      << (1e9 / r.engine_ns >= 1e6 ? "met" : "MISSED") << " (" << grouped(1e9 / r.engine_ns)
                      << ")\n";
    std::cout << "  (checksum " << sink << ")\n";

    if (check) {
        double matched = 0, baseline_hits = 0;
        for (const auto &r : rows) {
            matched += r.matched;
            baseline_hits += r.baseline_ok ? r.baseline_hits : 1;
        }
        if (matched <= 0 || baseline_hits <= 0) {
            std::cerr << "no route or no baseline matched any message: the workload is broken\n";
            sane = false;
        }
        if (!sane) std::cerr << "bench-rules: the figures are not sane\n";
        return sane ? 0 : 1;
    }
    return 0;
}
