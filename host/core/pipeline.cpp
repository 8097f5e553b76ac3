#include "core/pipeline.hpp"

#include "core/ulid.hpp"
#include "core/utf8.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

namespace relais {

namespace {
int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
} // namespace

Pipeline::Pipeline(RouteTable routes, Metrics &metrics, Outbox *outbox)
    : router_(std::move(routes)), metrics_(metrics), outbox_(outbox),
      dropped_(metrics.counter("relais_messages_dropped_total", {}, "Messages a drop action discarded")),
      unrouted_(metrics.counter("relais_messages_unrouted_total", {}, "Messages no route sent anywhere")),
      loops_(metrics.counter("relais_loops_prevented_total", {}, "Deliveries refused because they would loop")),
      echoes_(metrics.counter("relais_echoes_dropped_total", {},
                              "Messages dropped because they are the echo of a post Relais made")) {
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

namespace {
constexpr int64_t echo_window_ms = 120'000;
// A 64-bit hash of where and what, not the text itself: the map stays small under load, and two different texts
// sharing a hash (about one chance in 2^64 a pair) is far less likely than the echo it guards against.
uint64_t echo_key(const std::string &instance, const std::string &text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : instance) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0x1f) * 1099511628211ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h ^ (h >> 29);
}
} // namespace

void Pipeline::remember_sent(const std::string &destination, const std::string &rendered) {
    const int64_t now = now_ms();
    const uint64_t key = echo_key(destination, rendered);
    std::lock_guard lock(echo_mutex_);
    // Forget what is too old, and the oldest beyond a bound, so memory stays flat under any load.
    while (!sent_order_.empty() && (sent_order_.front().first < now || sent_order_.size() > 100'000)) {
        auto it = recently_sent_.find(sent_order_.front().second);
        if (it != recently_sent_.end() && it->second == sent_order_.front().first) recently_sent_.erase(it);
        sent_order_.pop_front();
    }
    recently_sent_[key] = now + echo_window_ms;
    sent_order_.emplace_back(now + echo_window_ms, key);
}

bool Pipeline::is_echo(const std::string &source, const std::string &text) {
    std::lock_guard lock(echo_mutex_);
    auto it = recently_sent_.find(echo_key(source, text));
    if (it == recently_sent_.end()) return false;
    bool fresh = it->second >= now_ms();
    recently_sent_.erase(it); // one post, one echo: the same words written again later are a new message
    return fresh;
}

void Pipeline::dispatch(const std::string &destination, DeliveryJob job) {
    auto q = queues_.find(destination);
    if (q == queues_.end()) {
        spdlog::warn("a stored delivery for '{}' waits in the outbox: no such destination in this configuration",
                     destination);
        return;
    }
    remember_sent(destination, job.rendered);
    q->second->push(std::move(job));
}

std::string Pipeline::dedupe_key(const std::string &source, const Message &m) const {
    const InstanceFacts *src = router_.table().instance(source);
    const std::string mode = src ? src->dedupe : "native_id";
    if (mode == "off") return {};
    if (mode == "content") {
        // The same text from the same author in the same channel is the same message.
        uint64_t h = 1469598103934665603ull;
        for (const std::string *part : {&m.channel, &m.author_id, &m.author, &m.text}) {
            for (unsigned char c : *part) h = (h ^ c) * 1099511628211ull;
            h = (h ^ 0x1f) * 1099511628211ull;
        }
        char buf[24];
        std::snprintf(buf, sizeof buf, "c:%016llx", static_cast<unsigned long long>(h));
        return buf;
    }
    return m.native_id.empty() ? std::string() : "n:" + m.channel + "\x1f" + m.native_id;
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
    repair_utf8(m); // the outbox stores the message as JSON, which must read back after a restart
}

int Pipeline::accept(const std::string &source, Message &&m) {
    if (!outbox_) { // no commit to wait for: everything happens on this thread
        int result = RELAIS_E_STORAGE;
        accept_async(source, std::move(m), [&result](int r) { result = r; });
        return result;
    }
    std::promise<int> accepted;
    auto result = accepted.get_future();
    accept_async(source, std::move(m), [&accepted](int r) { accepted.set_value(r); });
    return result.get();
}

void Pipeline::accept_async(const std::string &source, Message &&m, Accepted done) {
    if (closing_) return done(RELAIS_E_STOPPING);
    std::optional<ToStore> stored = route(source, m);
    if (!stored || !outbox_) return done(RELAIS_OK);
    const std::string what = "message " + m.id + " (native id " + m.native_id + ")";
    std::vector<Outbox::Keyed> one;
    one.push_back({std::move(stored->dedupe_key), std::move(stored->entries)});
    outbox_->store_async(source, std::move(one), answer_when_stored(source, what, std::move(done)));
}

void Pipeline::accept_batch_async(const std::string &source, std::vector<Message> &&messages, Accepted done) {
    if (closing_) return done(RELAIS_E_STOPPING);
    std::vector<Outbox::Keyed> items;
    items.reserve(messages.size());
    const size_t count = messages.size();
    for (Message &m : messages) {
        std::optional<ToStore> stored = route(source, m);
        if (stored && outbox_) items.push_back({std::move(stored->dedupe_key), std::move(stored->entries)});
    }
    if (items.empty()) return done(RELAIS_OK);
    outbox_->store_async(source, std::move(items),
                         answer_when_stored(source, "a batch of " + std::to_string(count) + " message(s)",
                                            std::move(done)));
}

Outbox::StoreDone Pipeline::answer_when_stored(const std::string &source, std::string what, Accepted done) {
    return [this, done = std::move(done), what = std::move(what), source](Outbox::Result r) {
        switch (r) {
        case Outbox::Result::stored: return done(RELAIS_OK);
        case Outbox::Result::duplicate:
            spdlog::debug("{} from {} was already accepted: not relayed again", what, source);
            return done(RELAIS_OK);
        case Outbox::Result::failed: break;
        }
        done(closing_ ? RELAIS_E_STOPPING : RELAIS_E_STORAGE);
    };
}

std::optional<Pipeline::ToStore> Pipeline::route(const std::string &source, Message &m) {
    normalise(source, m);
    if ((outbox_ && outbox_->posted_by_us(source, m.native_id)) || is_echo(source, m.text)) {
        echoes_.add(); // the network showing us our own post: relaying it would loop
        return std::nullopt;
    }
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
        return std::nullopt;
    }
    if (plan.deliveries.empty()) {
        unrouted_.add();
        return std::nullopt;
    }
    ToStore out;
    for (auto &d : plan.deliveries) {
        if (!queues_.count(d.instance)) continue;
        DeliveryJob job;
        job.message = m;
        job.message.level = d.level;
        job.channel = d.channel;
        job.rendered = std::move(d.rendered);
        job.delivery_key = m.id + ":" + d.instance + (d.channel.empty() ? "" : "/" + d.channel);
        job.route = d.route;
        out.entries.push_back({d.instance, std::move(job), std::move(d.held)});
    }
    if (!outbox_) {
        for (auto &e : out.entries) {
            if (!e.held.empty()) {
                spdlog::info("message {} for {} is held for approval ({}), and without an outbox it is dropped",
                             m.id, e.destination, e.held);
                continue;
            }
            dispatch(e.destination, std::move(e.job));
        }
        return std::nullopt;
    }
    out.dedupe_key = dedupe_key(source, m);
    return out;
}

size_t Pipeline::drain(std::chrono::milliseconds deadline) {
    size_t left = 0;
    auto until = std::chrono::steady_clock::now() + deadline;
    for (auto &[id, q] : queues_) {
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        size_t n = q->stop(std::max(remaining, std::chrono::milliseconds(0)));
        if (n) spdlog::info("[{}] {} delivery(ies) kept in the outbox for the next start", id, n);
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
