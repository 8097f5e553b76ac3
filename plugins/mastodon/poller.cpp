// poller.cpp — catch-up by polling with min_id, live events from the stream, and the cursors that tie them together.
#include "poller.hpp"

#include "entities.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace relais::mastodon {
namespace json = boost::json;
namespace {

// An item's id as text, or "" when it has none (then it cannot be placed in the stream's order).
std::string raw_id(const json::value &item) {
    if (!item.is_object()) return {};
    const json::value *id = item.get_object().if_contains("id");
    if (!id) return {};
    if (id->is_string()) return std::string(id->get_string());
    if (id->is_int64()) return std::to_string(id->get_int64());
    if (id->is_uint64()) return std::to_string(id->get_uint64());
    return {};
}

std::string without_query(const std::string &path) { return path.substr(0, path.find('?')); }

} // namespace

Poller::Poller(Host &host, const MastodonConfig &config, const Api &api) : host_(host), config_(config), api_(api) {
    auto add = [&](WatchKind kind, std::string name, std::string key, std::string channel) {
        auto w = std::make_unique<Watch>();
        w->kind = kind;
        w->name = std::move(name);
        w->key = std::move(key);
        w->channel = std::move(channel);
        watches_.push_back(std::move(w));
    };
    // Ids belong to one server: the cursors name it, so pointing the instance at another server starts afresh.
    const std::string prefix = "cursor:" + config.server + ":";
    if (config.mentions) add(WatchKind::mentions, "", prefix + "mentions", "mentions");
    for (const auto &tag : config.hashtags)
        add(WatchKind::hashtag, tag, prefix + "tag:" + tag, "#" + tag);
    for (const auto &acct : config.accounts)
        add(WatchKind::account, acct, prefix + "account:" + acct, "@" + acct);
}

void Poller::stop() {
    stopped_ = true;
    for (auto &w : watches_)
        std::lock_guard wait_for(w->mutex); // every emit checks stopped_ under this lock
}

std::string Poller::cursor(const Watch &w) const { return host_.kv_get(w.key).value_or(""); }

void Poller::set_cursor(const Watch &w, const std::string &id) {
    if (!host_.kv_put(w.key, id)) host_.log_warn("could not store the position of " + w.channel + " at " + id);
}

bool Poller::emit(const Message &m) {
    if (stopped_) return false;
    int rc = host_.emit(m);
    if (rc != RELAIS_OK) {
        host_.log_warn("the host did not take status " + m.native_id + " of " + m.channel + " (code " +
                       std::to_string(rc) + "): it is offered again at the next poll");
        return false;
    }
    host_.counter_add("statuses_emitted");
    return true;
}

void Poller::note_failure(const std::string &what, const net::ClientResponse &r) {
    host_.counter_add("poll_errors");
    std::string why = describe(what, r);
    if (r.status == 429) {
        auto delay = rate_limit_delay(r, now_ms()).value_or(std::chrono::milliseconds(60'000));
        paused_until_ms_ = now_ms() + delay.count();
        host_.log_warn(why + "; polling pauses for " + std::to_string((delay.count() + 999) / 1000) + "s");
    } else if (r.status == 401 || r.status == 403) {
        host_.log_error(why + " (check `token` and that it has the read scope)");
    } else if (r.status == 0 || r.status >= 500) {
        host_.log_warn(why + "; tried again at the next poll");
    } else {
        host_.log_error(why);
    }
}

bool Poller::resolve_account(Watch &w) {
    const std::string kv_key = "account_id:" + config_.server + ":" + w.name;
    if (auto known = host_.kv_get(kv_key); known && !known->empty()) {
        w.account_id = *known;
        return true;
    }
    const std::string path = "/api/v1/accounts/lookup?acct=" + url_encode(w.name);
    net::ClientResponse r = api_.get(path);
    if (r.status == 404) {
        host_.counter_add("poll_errors");
        host_.log_error("account @" + w.name + " is not known to " + config_.server + ": check `accounts`");
        return false;
    }
    if (!r.ok()) {
        note_failure("GET /api/v1/accounts/lookup", r);
        return false;
    }
    try {
        w.account_id = parse_account(parse_json(r.body)).id;
    } catch (const PayloadError &e) {
        host_.counter_add("malformed_payloads");
        host_.log_error("GET /api/v1/accounts/lookup for @" + w.name + ": " + e.what());
        return false;
    }
    host_.kv_put(kv_key, w.account_id);
    return true;
}

std::string Poller::page_path(const Watch &w, const std::string &since) const {
    std::string query = "limit=" + std::to_string(config_.page_limit) + (since.empty() ? "" : "&min_id=" + since);
    switch (w.kind) {
    case WatchKind::mentions: return "/api/v1/notifications?types%5B%5D=mention&" + query;
    case WatchKind::hashtag: return "/api/v1/timelines/tag/" + url_encode(w.name) + "?" + query;
    case WatchKind::account: return "/api/v1/accounts/" + url_encode(w.account_id) + "/statuses?" + query;
    }
    return {};
}

void Poller::poll_all() {
    for (auto &w : watches_) {
        if (stopped_) return;
        poll(*w);
    }
    host_.counter_add("polls");
}

bool Poller::poll(Watch &w) {
    std::lock_guard lock(w.mutex);
    w.behind = true; // until this catch-up succeeds, live events wait
    if (stopped_) return false;
    if (now_ms() < paused_until_ms_) return false;
    if (w.kind == WatchKind::account && w.account_id.empty() && !resolve_account(w)) return false;
    for (int page = 0; page < config_.max_pages && !stopped_; ++page) {
        const std::string since = cursor(w);
        const std::string path = page_path(w, since);
        net::ClientResponse r = api_.get(path);
        if (!r.ok()) {
            note_failure("GET " + without_query(path), r);
            return false;
        }
        json::array items;
        try {
            items = parse_array(r.body);
        } catch (const PayloadError &e) {
            host_.counter_add("malformed_payloads");
            host_.log_error("GET " + without_query(path) + ": the page is " + e.what() +
                            "; it is read again at the next poll");
            return false;
        }
        std::vector<std::pair<std::string, const json::value *>> ordered;
        for (const json::value &item : items) {
            std::string id = raw_id(item);
            if (id.empty()) {
                host_.counter_add("malformed_payloads");
                host_.log_warn("skipped an item of " + w.channel +
                               " that has no id: " + error_message(json::serialize(item)));
                continue;
            }
            ordered.emplace_back(std::move(id), &item);
        }
        std::sort(ordered.begin(), ordered.end(), [](auto &a, auto &b) { return id_newer(b.first, a.first); });

        if (since.empty() && config_.skip_existing) {
            if (!ordered.empty()) set_cursor(w, ordered.back().first);
            host_.log_info(w.channel + ": first look, " + std::to_string(ordered.size()) +
                           " existing items left out (skip_existing)");
            w.behind = false;
            return true;
        }
        for (const auto &[id, item] : ordered) {
            if (!since.empty() && !id_newer(id, since)) continue; // a server may repeat the boundary item
            if (handle_item(w, *item) == Outcome::refused) return false;
            set_cursor(w, id);
        }
        // The first look takes the latest page only; after that, a full page means more may be waiting.
        if (since.empty() || items.size() < static_cast<size_t>(config_.page_limit)) break;
    }
    w.behind = false;
    return true;
}

Poller::Outcome Poller::handle_item(Watch &w, const json::value &item) {
    try {
        Status status;
        std::string notification_id;
        if (w.kind == WatchKind::mentions) {
            Notification n = parse_notification(item);
            if (n.type != "mention" || !n.status) return Outcome::skipped;
            status = std::move(*n.status);
            notification_id = n.id;
        } else {
            status = parse_status(item);
        }
        std::string why;
        auto m = to_message(status, config_, w.channel, &why);
        if (!m) {
            host_.counter_add("statuses_filtered");
            host_.log_debug("status " + status.id + " of " + w.channel + " not relayed: " + why);
            return Outcome::skipped;
        }
        if (!notification_id.empty()) m->metadata.emplace_back("notification_id", notification_id);
        return emit(*m) ? Outcome::emitted : Outcome::refused;
    } catch (const PayloadError &e) {
        host_.counter_add("malformed_payloads");
        host_.log_warn("skipped a malformed item of " + w.channel + ": " + e.what());
        return Outcome::skipped;
    }
}

void Poller::on_event(Watch &w, const SseEvent &event) {
    std::lock_guard lock(w.mutex);
    if (stopped_) return;
    host_.counter_add("stream_events");
    bool mentions = w.kind == WatchKind::mentions;
    // The user stream also carries the home timeline: only its notifications are watched.
    bool wanted = mentions ? event.event == "notification"
                           : (event.event == "update" || event.event == "status.update" || event.event == "delete");
    if (!wanted) return;
    if (event.event == "delete") return handle_delete(w, event.data);
    if (event.event == "status.update") return handle_edit(w, event.data);

    json::value item;
    try {
        item = parse_json(event.data);
    } catch (const PayloadError &e) {
        host_.counter_add("malformed_payloads");
        host_.log_warn("skipped a malformed " + event.event + " event of " + w.channel + ": " + e.what());
        return;
    }
    std::string id = raw_id(item);
    if (id.empty()) {
        host_.counter_add("malformed_payloads");
        host_.log_warn("skipped a malformed " + event.event + " event of " + w.channel + ": it has no id");
        return;
    }
    // Behind: a poll has to catch up first, or this newer item would move the cursor past unseen ones.
    if (w.behind || !id_newer(id, cursor(w))) return;
    Outcome o = handle_item(w, item);
    if (o == Outcome::refused)
        w.behind = true;
    else
        set_cursor(w, id);
}

void Poller::handle_edit(Watch &w, const std::string &data) {
    try {
        Status s = parse_status(parse_json(data));
        std::string why;
        auto m = to_message(s, config_, w.channel, &why);
        if (!m) return;
        m->kind = Kind::edit;
        m->reply_to = s.id;
        m->native_id = s.id + ":edit:" + s.edited_at;
        if (!s.edited_at.empty()) m->metadata.emplace_back("edited_at", s.edited_at);
        emit(*m);
    } catch (const PayloadError &e) {
        host_.counter_add("malformed_payloads");
        host_.log_warn("skipped a malformed status.update event of " + w.channel + ": " + e.what());
    }
}

void Poller::handle_delete(Watch &w, const std::string &data) {
    std::string id = data;
    id.erase(std::remove_if(id.begin(), id.end(), [](char c) { return c == '"' || c == ' ' || c == '\n'; }), id.end());
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
        host_.counter_add("malformed_payloads");
        host_.log_warn("skipped a malformed delete event of " + w.channel + ": \"" + data.substr(0, 80) + "\"");
        return;
    }
    Message m;
    m.kind = Kind::remove;
    m.channel = w.channel;
    m.native_id = id + ":delete";
    m.reply_to = id;
    emit(m);
}

} // namespace relais::mastodon
