#include "core/pipeline.hpp"

#include "core/ulid.hpp"
#include "core/utf8.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace relais {

namespace {
int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
void repair(std::string &s) {
    if (!valid_utf8(s)) s = repair_utf8(s);
}
} // namespace

Pipeline::Pipeline(RouteTable routes, Metrics &metrics)
    : router_(std::move(routes)), metrics_(metrics),
      dropped_(metrics.counter("relais_messages_dropped_total", {}, "Messages a drop action discarded")),
      unrouted_(metrics.counter("relais_messages_unrouted_total", {}, "Messages no route sent anywhere")),
      loops_(metrics.counter("relais_loops_prevented_total", {}, "Deliveries refused because they would loop")) {
    for (const auto &i : router_.table().instances) {
        received_[i.id] = &metrics.counter("relais_messages_received_total", {{"source", i.id}},
                                           "Messages accepted from each source");
        refused_confidentiality_[i.id] =
            &metrics.counter("relais_confidentiality_refusals_total", {{"destination", i.id}},
                             "Deliveries refused because the message is above the destination's level");
    }
}

void Pipeline::add_destination(const std::string &instance, std::unique_ptr<DestinationQueue> queue) {
    queues_[instance] = std::move(queue);
}

void Pipeline::start_delivery() {
    for (auto &[id, q] : queues_) q->start();
}

void Pipeline::normalise(const std::string &source, Message &m) const {
    const InstanceFacts *src = router_.table().instance(source);
    m.id = new_ulid();
    m.source = source;
    m.network = src ? src->plugin : "";
    m.received_at_ms = now_ms();
    if (m.level == Level::unset || static_cast<int>(m.level) > static_cast<int>(Level::secret))
        m.level = src ? src->level : Level::internal;
    if (static_cast<int>(m.kind) < RELAIS_KIND_POST || static_cast<int>(m.kind) > RELAIS_KIND_REACTION)
        m.kind = Kind::post;
    if (m.trace.empty() || m.trace.back() != source) m.trace.push_back(source);
    repair(m.text);
    repair(m.author);
    repair(m.author_id);
    repair(m.channel);
    for (auto &t : m.tags) repair(t);
}

int Pipeline::accept(const std::string &source, Message &&m) {
    if (closing_) return RELAIS_E_STOPPING;
    normalise(source, m);
    if (auto it = received_.find(source); it != received_.end()) it->second->add();

    Plan plan = router_.route(m);
    for (const auto &r : plan.refusals) {
        if (r.reason == "confidentiality") {
            spdlog::warn("refused to deliver message {} from {} to {} (route '{}'): {}", m.id, source, r.instance,
                         r.route, r.detail);
            if (auto it = refused_confidentiality_.find(r.instance); it != refused_confidentiality_.end())
                it->second->add();
        } else {
            spdlog::debug("message {} not sent to {} (route '{}'): {}", m.id, r.instance, r.route, r.detail);
            loops_.add();
        }
    }
    if (plan.dropped) {
        dropped_.add();
        spdlog::debug("message {} from {} dropped by route '{}'", m.id, source, plan.dropped_by);
        return RELAIS_OK;
    }
    if (plan.deliveries.empty()) {
        unrouted_.add();
        return RELAIS_OK;
    }
    for (auto &d : plan.deliveries) {
        auto q = queues_.find(d.instance);
        if (q == queues_.end()) continue;
        DeliveryJob job;
        job.message = m;
        job.message.level = d.level;
        job.channel = d.channel;
        job.rendered = std::move(d.rendered);
        job.delivery_key = m.id + ":" + d.instance + (d.channel.empty() ? "" : "/" + d.channel);
        job.route = d.route;
        q->second->push(std::move(job));
    }
    return RELAIS_OK;
}

size_t Pipeline::drain(std::chrono::milliseconds deadline) {
    size_t left = 0;
    auto until = std::chrono::steady_clock::now() + deadline;
    for (auto &[id, q] : queues_) {
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        size_t n = q->stop(std::max(remaining, std::chrono::milliseconds(0)));
        if (n) spdlog::warn("[{}] {} delivery(ies) not made before shutdown", id, n);
        left += n;
    }
    return left;
}

size_t Pipeline::queued() const {
    size_t n = 0;
    for (const auto &[id, q] : queues_) n += q->depth();
    return n;
}

} // namespace relais
