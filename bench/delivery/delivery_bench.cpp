// Relay throughput through the host's pipeline (ingest → route → queue → deliver), with the durable outbox and
// without it, in one run, for two destinations: one that accepts at once (the host's own cost alone) and one that
// POSTs each message to a real HTTP server on 127.0.0.1 (what a webhook sink does).
//
//   delivery_bench [--messages N] [--senders C] [--fsync]
#include "core/metrics.hpp"
#include "core/pipeline.hpp"
#include "deliver/outbox.hpp"
#include "route/rules.hpp"

#include <relais/net/http.hpp>
#include <relais/plugin.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace relais;
using Clock = std::chrono::steady_clock;

namespace {

RouteTable routes() {
    Diagnostics diags("bench.yaml");
    Config config = parse_config("plugins: []\nroutes:\n  - name: all\n    from: inbox\n"
                                 "    do: [{ relay: { to: team, template: \"{author}: {text}\" } }]\n",
                                 "bench.yaml", diags);
    std::vector<InstanceFacts> instances{{"inbox", "webhook", Level::internal, RELAIS_CAP_SOURCE, std::nullopt, "native_id"},
                                         {"team", "webhook", Level::internal, RELAIS_CAP_SINK, std::nullopt, "native_id"}};
    return compile_routes(config, instances, diags);
}

// Returns messages per second from the first emit to the last delivery.
double run(size_t messages, unsigned senders, bool durable, bool fsync, const std::string &http_sink) {
    Metrics metrics;
    auto path = std::filesystem::temp_directory_path() / ("relais-bench-outbox-" + std::to_string(::getpid()) + ".db");
    for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    std::unique_ptr<Outbox> outbox;
    if (durable)
        outbox = std::make_unique<Outbox>(
            Outbox::Settings{path.string(), fsync ? OutboxStore::Sync::full : OutboxStore::Sync::normal,
                             std::chrono::hours(24)},
            metrics);
    Pipeline pipeline(routes(), metrics, outbox.get());
    std::atomic<size_t> delivered{0};
    pipeline.add_destination("team", std::make_unique<DestinationQueue>(
                                         "team",
                                         [&](const DeliveryJob &job) {
                                             if (!http_sink.empty()) {
                                                 net::ClientRequest req;
                                                 req.method = "POST";
                                                 req.url = http_sink;
                                                 req.body = job.rendered;
                                                 if (!net::http_request(req).ok())
                                                     return DeliveryOutcome{RELAIS_RETRY, 0, {}, "sink"};
                                             }
                                             delivered.fetch_add(1, std::memory_order_relaxed);
                                             return DeliveryOutcome{RELAIS_DELIVERED, 0, "n", {}};
                                         },
                                         RetryPolicy{}, metrics, outbox.get()));
    if (outbox) outbox->start([&](const std::string &d, DeliveryJob j) { pipeline.dispatch(d, std::move(j)); });
    pipeline.start_delivery();

    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < senders; ++s)
        threads.emplace_back([&, s] {
            for (size_t i = s; i < messages; i += senders) {
                Message m;
                m.native_id = "m" + std::to_string(i);
                m.author = "alice";
                m.text = "message " + std::to_string(i) + " about rivalcorp and the appel d'offres of this week";
                if (pipeline.accept("inbox", std::move(m)) != RELAIS_OK) std::abort();
            }
        });
    for (auto &t : threads) t.join();
    auto deadline = Clock::now() + std::chrono::minutes(5);
    while (delivered.load() < messages && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::microseconds(200));
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    pipeline.drain(std::chrono::seconds(5));
    if (outbox) outbox->stop();
    for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    if (delivered.load() != messages) {
        std::fprintf(stderr, "only %zu of %zu messages delivered\n", delivered.load(), messages);
        std::exit(1);
    }
    return messages / seconds;
}

} // namespace

int main(int argc, char **argv) {
    size_t messages = 100'000;
    unsigned senders = 4;
    bool fsync = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--messages") && i + 1 < argc) messages = std::stoul(argv[++i]);
        else if (!std::strcmp(argv[i], "--senders") && i + 1 < argc) senders = static_cast<unsigned>(std::stoul(argv[++i]));
        else if (!std::strcmp(argv[i], "--fsync")) fsync = true;
        else {
            std::fprintf(stderr, "usage: %s [--messages N] [--senders C] [--fsync]\n", argv[0]);
            return 2;
        }
    }
    net::HttpServer sink({}, [](const net::Request &) { return net::Response::json(200, R"({"id":"x"})"); });
    sink.start();
    const std::string sink_url = "http://127.0.0.1:" + std::to_string(sink.port()) + "/in";

    std::printf("messages=%zu senders=%u fsync=%s\n", messages, senders, fsync ? "true" : "false");
    std::printf("%-34s %12s %12s %8s\n", "destination", "in-memory", "durable", "ratio");
    for (const auto &[name, url] : {std::pair<const char *, std::string>{"accepts at once (host cost only)", ""},
                                    {"HTTP POST to 127.0.0.1", sink_url}}) {
        size_t n = url.empty() ? messages : std::min<size_t>(messages, 20'000);
        double memory = run(n, senders, false, false, url);
        double durable = run(n, senders, true, fsync, url);
        std::printf("%-34s %10.0f/s %10.0f/s %8.2f\n", name, memory, durable, durable / memory);
    }
    return 0;
}
