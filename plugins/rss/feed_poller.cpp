// feed_poller.cpp — the poll of one feed: conditional fetch, parse, emit new items, remember them, back off.
#include "feed_poller.hpp"

#include "feed_fetch.hpp"
#include "hash.hpp"
#include "item_identity.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <unordered_set>

namespace relais::rss {
namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string human(uint64_t ms) {
    if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

// The store key of an item's cross-feed identity, or empty when it has none.
std::string fingerprint_key(const FeedItem &item) {
    std::string fingerprint = item_fingerprint(item);
    return fingerprint.empty() ? std::string() : "seen:item:" + hash_hex(fingerprint);
}

} // namespace

int EmitGate::emit(Host &host, const Message &m) {
    std::lock_guard lock(mutex_);
    if (closed_) return RELAIS_E_STOPPING;
    return host.emit(m);
}

void EmitGate::close() {
    std::lock_guard lock(mutex_); // waits for an emit in progress
    closed_ = true;
}

bool EmitGate::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

FeedPoller::FeedPoller(Host &host, FeedConfig feed, PollOptions options, EmitGate &gate, SeenStore &seen)
    : host_(host), feed_(std::move(feed)), options_(std::move(options)), gate_(gate), seen_(seen),
      key_(hash_hex(feed_.url)) {}

bool FeedPoller::begin_tick() {
    if (gate_.closed()) return false;
    std::lock_guard lock(mutex_);
    if (busy_) return false;
    if (skip_ticks_ > 0) {
        --skip_ticks_;
        return false;
    }
    busy_ = true;
    return true;
}

void FeedPoller::poll() {
    try {
        if (!gate_.closed()) poll_once();
    } catch (const std::exception &e) {
        host_.log_error("rss: feed " + feed_.label() + ": poll failed: " + e.what());
    } catch (...) {
        host_.log_error("rss: feed " + feed_.label() + ": poll failed with an unknown exception");
    }
    {
        std::lock_guard lock(mutex_);
        busy_ = false;
    }
    host_.counter_add("polls"); // after busy_ is cleared: whoever sees the count may tick again at once
}

void FeedPoller::poll_once() {
    if (!state_loaded_) load_state();

    FetchRequest request;
    request.location = feed_.location;
    request.headers = feed_.headers;
    request.etag = state_.etag;
    request.last_modified = state_.last_modified;
    request.timeout = std::chrono::milliseconds(options_.timeout_ms);
    request.user_agent = options_.user_agent;
    FetchResult fetched = fetch_feed(request);

    if (fetched.outcome == FetchResult::Outcome::failed) return failed(fetched.error, fetched.retry_after);
    if (fetched.outcome == FetchResult::Outcome::not_modified) {
        succeeded();
        host_.log_debug("rss: feed " + feed_.label() + " has not changed (304)");
        return;
    }

    Feed feed;
    try {
        feed = parse_feed(fetched.body, feed_.location.url, fetched.charset);
    } catch (const FeedError &e) {
        return failed(std::string("not a feed: ") + e.what(), std::nullopt);
    }
    succeeded();

    const bool first_fetch = !state_.fetched;
    const bool complete = emit_new(feed, first_fetch);
    state_.fetched = true;
    if (complete) { // keep the old validators otherwise, so the next poll gets the items again rather than a 304
        state_.etag = fetched.etag;
        state_.last_modified = fetched.last_modified;
    }
    save_state();
}

bool FeedPoller::emit_new(const Feed &feed, bool first_fetch) {
    std::vector<FeedItem> items = oldest_first(feed.items);
    const int64_t fetched_at = now_ms();

    if (first_fetch && options_.skip_existing) {
        for (const FeedItem &item : items) {
            std::lock_guard lock(seen_.mutex());
            remember(item, fingerprint_key(item));
        }
        host_.log_info("rss: feed " + feed_.label() + ": first fetch, " + std::to_string(items.size()) +
                       " existing items skipped (skip_existing); new items will be relayed from now on");
        return true;
    }

    size_t emitted = 0, duplicates = 0;
    bool complete = true;
    std::unordered_set<std::string> this_poll;
    for (const FeedItem &item : items) {
        if (!this_poll.insert(item.id).second) continue;
        const std::string fingerprint = fingerprint_key(item);
        std::lock_guard lock(seen_.mutex()); // check, emit and record as one step for every feed of the instance
        if (seen_.seen(seen_key(item.id))) continue;
        if (!fingerprint.empty() && seen_.seen(fingerprint)) {
            ++duplicates; // relayed from another feed (or under another id here): remember it under this id too
            seen_.record(seen_key(item.id));
            continue;
        }
        int rc = gate_.emit(host_, to_message(item, feed, fetched_at));
        if (rc != RELAIS_OK) {
            complete = false;
            if (!gate_.closed())
                host_.log_warn("rss: feed " + feed_.label() + ": the host did not accept item " + item.id +
                               " (code " + std::to_string(rc) + "); it and the items after it will be offered " +
                               "again at the next poll");
            break;
        }
        ++emitted;
        host_.counter_add("items_emitted");
        remember(item, fingerprint);
    }
    if (emitted > 0)
        host_.log_info("rss: feed " + feed_.label() + ": " + std::to_string(emitted) + " new item" +
                       (emitted == 1 ? "" : "s"));
    if (duplicates > 0) {
        host_.counter_add("duplicates_skipped", static_cast<double>(duplicates));
        host_.log_debug("rss: feed " + feed_.label() + ": " + std::to_string(duplicates) +
                        " item(s) already relayed from another feed, skipped");
    }
    return complete;
}

void FeedPoller::remember(const FeedItem &item, const std::string &fingerprint_key) {
    bool ok = seen_.record(seen_key(item.id));
    if (!fingerprint_key.empty()) ok = seen_.record(fingerprint_key) && ok;
    if (!ok)
        host_.log_warn("rss: feed " + feed_.label() + ": could not record item " + item.id +
                       " as seen (storage error); it may be relayed again");
}

Message FeedPoller::to_message(const FeedItem &item, const Feed &feed, int64_t fetched_at_ms) const {
    Message m;
    m.channel = feed_.message_channel();
    m.native_id = item.id;
    m.kind = Kind::post;
    m.author = item.author;
    m.author_id = item.author_id;
    if (m.author.empty() && m.author_id.empty()) m.author = feed.title; // an unsigned item speaks for its feed
    if (item.title.empty()) m.text = item.summary.empty() ? item.link : item.summary;
    else if (item.summary.empty() || item.summary == item.title) m.text = item.title;
    else m.text = item.title + " \xE2\x80\x94 " + item.summary; // " — "
    if (!item.link.empty()) m.links.push_back(item.link);
    m.tags = item.tags;
    m.attachments = item.attachments;
    m.language = item.language;
    m.created_at_ms = item.date_ms() ? item.date_ms() : fetched_at_ms; // an undated item is as old as its fetch
    m.metadata = {{"feed_title", feed.title}, {"feed_url", feed_.url}, {"title", item.title}};
    return m;
}

void FeedPoller::failed(const std::string &error, std::optional<std::chrono::milliseconds> retry_after) {
    host_.counter_add("fetch_errors");
    std::lock_guard lock(mutex_);
    ++failures_;
    const uint64_t interval = feed_.interval_ms;
    uint64_t delay = interval << std::min(failures_ - 1, 20u);
    delay = std::min(delay, std::max(max_backoff_ms, interval));
    if (retry_after && static_cast<uint64_t>(retry_after->count()) > delay) delay = retry_after->count();
    skip_ticks_ = (delay + interval - 1) / interval - 1; // ticks come every interval
    const std::string text = "rss: feed " + feed_.label() + ": " + error + "; next try in " +
                             human((skip_ticks_ + 1) * interval) +
                             (failures_ > 1 ? " (" + std::to_string(failures_) + " failures in a row)" : "");
    // Once per change of state (the feed starts failing, or fails differently); repeats only at debug level.
    if (failures_ == 1 || error != last_error_) host_.log_warn(text);
    else host_.log_debug(text);
    last_error_ = error;
}

void FeedPoller::succeeded() {
    std::lock_guard lock(mutex_);
    if (failures_ > 0)
        host_.log_info("rss: feed " + feed_.label() + " is readable again after " + std::to_string(failures_) +
                       " failed attempt" + (failures_ == 1 ? "" : "s"));
    failures_ = 0;
    skip_ticks_ = 0;
    last_error_.clear();
}

std::string FeedPoller::seen_key(const std::string &item_id) const { return "seen:" + key_ + ":" + hash_hex(item_id); }

void FeedPoller::load_state() {
    state_loaded_ = true;
    auto text = host_.kv_get("feed:" + key_);
    if (!text) return;
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) {
        host_.log_warn("rss: feed " + feed_.label() + ": stored state is unreadable; starting afresh");
        return;
    }
    const auto &o = v.get_object();
    if (auto *s = o.if_contains("etag"); s && s->is_string()) state_.etag = std::string(s->get_string());
    if (auto *s = o.if_contains("last_modified"); s && s->is_string())
        state_.last_modified = std::string(s->get_string());
    if (auto *s = o.if_contains("fetched"); s && s->is_bool()) state_.fetched = s->get_bool();
}

void FeedPoller::save_state() {
    boost::json::object o;
    o["url"] = feed_.url;
    o["etag"] = state_.etag;
    o["last_modified"] = state_.last_modified;
    o["fetched"] = state_.fetched;
    if (!host_.kv_put("feed:" + key_, boost::json::serialize(o)))
        host_.log_warn("rss: feed " + feed_.label() + ": could not store its state (storage error)");
}

} // namespace relais::rss
