// bluesky: posts to Bluesky / the AT Protocol (sink) and watches the repository firehose for posts by followed
// accounts, mentions of the company and keywords (source).
#include "config.hpp"
#include "firehose.hpp"
#include "frame.hpp"
#include "post_record.hpp"
#include "watch.hpp"
#include "xrpc.hpp"

#include <relais/plugin.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>

namespace bluesky {

namespace json = boost::json;

namespace {

constexpr const char *kCursorKey = "cursor";
constexpr const char *kPostCollection = "app.bsky.feed.post";

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool is_did(const std::string &s) { return s.rfind("did:", 0) == 0; }

std::string json_string(const json::value &v, std::initializer_list<std::string_view> path) {
    const json::value *at = &v;
    for (std::string_view key : path) {
        if (!at->is_object()) return {};
        at = at->as_object().if_contains(key);
        if (!at) return {};
    }
    return at->is_string() ? std::string(at->as_string()) : std::string();
}

} // namespace

class Bluesky : public relais::Plugin {
public:
    explicit Bluesky(relais::Host &host)
        : Plugin(host), config_(read_config(host)),
          xrpc_(Xrpc::Options{config_.service, config_.identifier, config_.app_password, config_.timeout,
                              std::chrono::seconds(300), config_.tls_ca,
                              [this](const std::string &what) { this->host().log_info(what); }}) {
        for (const std::string &k : config_.keywords) rules_.keywords.push_back(lower_ascii(k));
        if (config_.watch) {
            Firehose::Options options;
            options.url = config_.firehose;
            options.reconnect_min = config_.reconnect_min;
            options.reconnect_max = config_.reconnect_max;
            options.connect_timeout = config_.timeout;
            options.ca_file = config_.tls_ca;
            Firehose::Callbacks callbacks;
            callbacks.cursor = [this] { return before_connect(); };
            callbacks.frame = [this](std::string_view frame) { return on_frame(frame); };
            callbacks.connected = [this](const std::string &url) {
                this->host().counter_add("connects");
                this->host().log_info("watching " + url + (seq_ ? " from seq " + std::to_string(seq_.load()) : ""));
            };
            callbacks.disconnected = [this](const std::string &why) {
                this->host().counter_add("disconnects");
                this->host().log_warn("firehose " + config_.firehose + ": " + why);
            };
            try {
                firehose_ = std::make_unique<Firehose>(options, callbacks);
            } catch (const std::exception &e) {
                throw relais::ConfigError("firehose", e.what());
            }
        }
    }

    void start() override {
        if (auto stored = host().kv_get(kCursorKey)) {
            try {
                seq_ = saved_seq_ = std::stoll(*stored);
            } catch (const std::exception &) {
                host().log_warn("ignoring an unreadable stored cursor \"" + *stored + "\"");
            }
        }
        if (firehose_) firehose_->start();
    }

    void stop() override {
        if (firehose_) firehose_->stop();
        save_cursor(true);
    }

    relais::DeliverResult deliver(const relais::Message &, const relais::Delivery &d) override;

private:
    // On the firehose thread, before each connection: resolve what the watch rules name, and say where to resume.
    std::optional<int64_t> before_connect() {
        refresh_rules(true);
        // Mentions of the account itself are the default watch: reading the stream before knowing who that is
        // would let its mentions pass unseen, so wait (the firehose retries with backoff).
        if (!self_known_ && config_.mentions.empty())
            throw std::runtime_error("not reading yet: the account's own DID is needed to see its mentions");
        if (seq_ > 0) return seq_.load();
        return std::nullopt;
    }

    // Resolves the handles in follow/mentions to DIDs and learns the account's own DID; what fails is tried again
    // at the next connection or a minute later.
    void refresh_rules(bool now) {
        if (rules_complete_ || (!now && now_ms() - last_rules_attempt_ms_ < 60'000)) return;
        last_rules_attempt_ms_ = now_ms();
        bool complete = true;
        if (!self_known_) {
            std::string why = xrpc_.ensure_session();
            if (why.empty()) {
                self_known_ = true;
                rules_.ignore_dids.insert(xrpc_.did());
                if (config_.mentions.empty()) { // by default, mentions of the account itself
                    rules_.mention_dids.insert(xrpc_.did());
                    rules_.mention_handles.insert(lower_ascii(xrpc_.handle()));
                }
                remember_handle(xrpc_.did(), xrpc_.handle());
            } else {
                complete = false;
                host().log_warn("watch: " + why);
            }
        }
        for (const std::string &name : config_.mentions) {
            if (is_did(name)) {
                rules_.mention_dids.insert(name);
                continue;
            }
            rules_.mention_handles.insert(lower_ascii(name));
            if (auto did = resolve_for_rules(name)) rules_.mention_dids.insert(*did);
            else complete = false;
        }
        for (const std::string &name : config_.follow) {
            if (is_did(name)) rules_.follow_dids.insert(name);
            else if (auto did = resolve_for_rules(name)) rules_.follow_dids.insert(*did);
            else complete = false;
        }
        rules_complete_ = complete;
    }

    std::optional<std::string> resolve_for_rules(const std::string &handle) {
        std::string why;
        auto did = resolve_handle(lower_ascii(handle), why);
        if (!did) host().log_warn("watch: cannot resolve the handle " + handle + " to a DID (" + why + ")");
        else remember_handle(*did, lower_ascii(handle));
        return did;
    }

    // com.atproto.identity.resolveHandle, cached. nullopt with `why`; `transient` tells a server problem from an
    // unknown handle.
    std::optional<std::string> resolve_handle(const std::string &handle, std::string &why, bool *transient = nullptr) {
        {
            std::lock_guard lock(cache_mutex_);
            if (auto it = did_by_handle_.find(handle); it != did_by_handle_.end()) return it->second;
        }
        XrpcResult r = xrpc_.query("com.atproto.identity.resolveHandle", {{"handle", handle}});
        std::string did = json_string(r.body, {"did"});
        if (!r.ok() || did.empty()) {
            why = r.describe();
            if (transient) *transient = r.transient();
            return std::nullopt;
        }
        std::lock_guard lock(cache_mutex_);
        did_by_handle_[handle] = did;
        return did;
    }

    void remember_handle(const std::string &did, const std::string &handle) {
        if (did.empty() || handle.empty()) return;
        std::lock_guard lock(cache_mutex_);
        handle_by_did_[did] = handle;
    }

    // The author's handle for display and links, from the PLC directory; the DID when it cannot be found.
    std::string handle_for(const std::string &did) {
        {
            std::lock_guard lock(cache_mutex_);
            if (auto it = handle_by_did_.find(did); it != handle_by_did_.end()) return it->second;
        }
        if (did.rfind("did:plc:", 0) == 0) {
            auto res = xrpc_.get_url(config_.plc_directory + "/" + did);
            json::error_code ec;
            json::value doc = res.ok() ? json::parse(res.body, ec) : json::value();
            if (!ec && doc.is_object())
                if (const json::value *aka = doc.as_object().if_contains("alsoKnownAs"); aka && aka->is_array())
                    for (const json::value &name : aka->as_array())
                        if (name.is_string() && name.as_string().starts_with("at://")) {
                            std::string handle(name.as_string().subview().substr(5));
                            remember_handle(did, handle);
                            return handle;
                        }
            host().log_debug("no handle for " + did + " in " + config_.plc_directory + " (" +
                             (res.status ? std::to_string(res.status) : res.error) + ")");
        }
        return did;
    }

    bool on_frame(std::string_view frame) {
        host().counter_add("frames_received");
        std::string error;
        auto event = parse_frame(frame, error);
        if (!event) {
            host().counter_add("malformed_frames");
            host().log_warn("skipping a malformed firehose frame (" + std::to_string(frame.size()) +
                            " bytes): " + error);
            return true;
        }
        if (!rules_complete_) refresh_rules(false);
        switch (event->kind) {
        case Event::Kind::commit: return on_commit(*event);
        case Event::Kind::identity:
            if (!event->handle.empty()) {
                std::lock_guard lock(cache_mutex_);
                if (handle_by_did_.count(event->repo)) handle_by_did_[event->repo] = event->handle;
            }
            break;
        case Event::Kind::info:
            host().log_warn("firehose: " + event->message +
                            (event->message.find("OutdatedCursor") != std::string::npos
                                 ? " (posts older than the server keeps were not seen)"
                                 : ""));
            break;
        case Event::Kind::error:
            host().log_error("firehose error " + event->type + ": " + event->message);
            break;
        case Event::Kind::other: break;
        }
        if (event->seq > seq_) seq_ = event->seq;
        save_cursor(false);
        return true;
    }

    bool on_commit(const Event &event) {
        if (event.seq && event.seq <= seq_) return true; // seen before a reconnection
        for (const std::string &why : event.skipped) {
            host().counter_add("malformed_frames");
            host().log_warn("skipping a post of " + event.repo + " in seq " + std::to_string(event.seq) + ": " + why);
        }
        bool emitted = false;
        for (const Post &post : event.posts) {
            host().counter_add("posts_seen");
            auto reason = match_post(rules_, post);
            if (!reason) continue;
            relais::Message m = to_message(post, *reason);
            int rc = host().emit(m);
            if (rc != RELAIS_OK) {
                host().log_warn("the host did not take " + post.uri + " (code " + std::to_string(rc) +
                                "); it will be read again from seq " + std::to_string(seq_.load()));
                return false;
            }
            host().counter_add("posts_matched");
            emitted = true;
        }
        if (event.seq > seq_) seq_ = event.seq;
        save_cursor(emitted);
        return true;
    }

    relais::Message to_message(const Post &post, const std::string &reason) {
        std::string handle = handle_for(post.author_did);
        relais::Message m;
        m.channel = config_.channel.empty() ? reason : config_.channel;
        m.native_id = post.uri;
        m.author = handle;
        m.author_id = post.author_did;
        m.text = post.text;
        m.links.push_back(config_.post_url_base + "/profile/" + handle + "/post/" + post.rkey);
        for (const auto &l : post.links) m.links.push_back(l);
        m.mentions = post.mention_dids;
        m.tags = post.tags;
        m.kind = post.reply_parent_uri.empty() ? relais::Kind::post : relais::Kind::reply;
        m.reply_to = post.reply_parent_uri;
        m.thread_id = post.reply_root_uri.empty() ? post.uri : post.reply_root_uri;
        if (!post.langs.empty()) m.language = post.langs.front();
        m.created_at_ms = parse_iso_time(post.created_at).value_or(0);
        m.metadata = {{"bluesky.reason", reason}, {"bluesky.cid", post.cid}};
        return m;
    }

    // Right away when asked (after an emit, at stop), else at most every 2 s: replaying events that emitted nothing
    // is harmless.
    void save_cursor(bool now) {
        int64_t seq = seq_;
        if (seq <= saved_seq_ || (!now && now_ms() - last_save_ms_ < 2'000)) return;
        if (host().kv_put(kCursorKey, std::to_string(seq))) {
            saved_seq_ = seq;
            last_save_ms_ = now_ms();
        } else {
            host().log_warn("cannot store the firehose cursor " + std::to_string(seq));
        }
    }

    std::optional<ReplyRefs> reply_refs(const std::string &reply_to, relais::DeliverResult &problem);

    Config config_;
    Xrpc xrpc_;
    std::unique_ptr<Firehose> firehose_;

    // Firehose thread only (and stop(), after the thread ended).
    WatchRules rules_;
    bool rules_complete_ = false, self_known_ = false;
    int64_t last_rules_attempt_ms_ = -60'000;
    std::atomic<int64_t> seq_{0};
    int64_t saved_seq_ = 0, last_save_ms_ = 0;

    std::mutex cache_mutex_; // the caches are shared with deliver()
    std::map<std::string, std::string> did_by_handle_, handle_by_did_;
    std::mt19937 random_{std::random_device{}()};
};

std::optional<ReplyRefs> Bluesky::reply_refs(const std::string &reply_to, relais::DeliverResult &problem) {
    auto uri = parse_at_uri(reply_to);
    if (!uri) {
        host().log_warn("reply_to \"" + reply_to + "\" is not an at:// post URI; posting without a thread");
        return std::nullopt;
    }
    XrpcResult r = xrpc_.query("com.atproto.repo.getRecord",
                               {{"repo", uri->repo}, {"collection", uri->collection}, {"rkey", uri->rkey}});
    if (!r.ok()) {
        if (r.transient()) {
            problem = relais::DeliverResult::retry("cannot read the post it replies to, " + reply_to + ": " +
                                                   r.describe(), r.retry_after_ms);
        } else {
            host().log_warn("the post it replies to, " + reply_to + ", cannot be read (" + r.describe() +
                            "); posting without a thread");
        }
        return std::nullopt;
    }
    ReplyRefs refs;
    refs.parent = {json_string(r.body, {"uri"}), json_string(r.body, {"cid"})};
    refs.root = {json_string(r.body, {"value", "reply", "root", "uri"}),
                 json_string(r.body, {"value", "reply", "root", "cid"})};
    if (refs.root.uri.empty() || refs.root.cid.empty()) refs.root = refs.parent;
    if (refs.parent.cid.empty()) {
        problem = relais::DeliverResult::failed("the server gave no CID for " + reply_to);
        return std::nullopt;
    }
    return refs;
}

relais::DeliverResult Bluesky::deliver(const relais::Message &, const relais::Delivery &d) {
    if (d.rendered.empty()) return relais::DeliverResult::failed("nothing to post: the rendered text is empty");
    if (std::string why = xrpc_.ensure_session(); !why.empty()) return relais::DeliverResult::retry(why);

    relais::DeliverResult problem = relais::DeliverResult::ok();
    std::optional<ReplyRefs> reply;
    if (!d.reply_to.empty()) {
        reply = reply_refs(d.reply_to, problem);
        if (problem.status != RELAIS_DELIVERED) return problem;
    }
    std::string resolve_problem;
    HandleResolver resolver = [&](const std::string &handle) -> std::optional<std::string> {
        std::string why;
        bool transient = false;
        auto did = resolve_handle(handle, why, &transient);
        if (!did && transient) resolve_problem = "cannot resolve @" + handle + ": " + why;
        else if (!did) host().log_info("@" + handle + " is not a known handle (" + why + "); left as plain text");
        return did;
    };
    json::object record = make_post_record(d.rendered, resolver, reply, config_.langs, iso_time(now_ms()));
    if (!resolve_problem.empty()) return relais::DeliverResult::retry(resolve_problem);

    // The record key is chosen once per delivery, so a retry after a lost answer cannot post twice.
    std::string key = "outbox:" + d.delivery_key;
    std::string rkey = host().kv_get(key).value_or("");
    if (rkey.empty()) {
        rkey = make_tid(static_cast<uint64_t>(now_ms()) * 1000 + random_() % 1000, random_() % 1024);
        host().kv_put(key, rkey);
    }
    std::string did = xrpc_.did();
    std::string uri = "at://" + did + "/" + kPostCollection + "/" + rkey;
    json::object body{{"repo", did}, {"collection", kPostCollection}, {"rkey", rkey}, {"record", record}};
    XrpcResult r = xrpc_.procedure_authed("com.atproto.repo.createRecord", body);
    if (!r.ok() && d.attempt > 1) {
        // Perhaps an earlier attempt did post and its answer was lost: then the record is there under our key
        // (the server answers a second create of the same key with an error, a 500 for the reference PDS).
        XrpcResult existing = xrpc_.query("com.atproto.repo.getRecord",
                                          {{"repo", did}, {"collection", kPostCollection}, {"rkey", rkey}});
        if (existing.ok()) r = existing;
    }
    if (r.ok()) {
        host().kv_delete(key);
        host().counter_add("posts_sent");
        std::string posted = json_string(r.body, {"uri"});
        return relais::DeliverResult::ok(posted.empty() ? uri : posted);
    }
    host().counter_add("send_failures");
    std::string what = "createRecord on " + config_.service + ": " + r.describe();
    if (r.status == 429) return relais::DeliverResult::retry(what, r.retry_after_ms);
    if (r.transient()) return relais::DeliverResult::retry(what, r.retry_after_ms);
    host().kv_delete(key);
    return relais::DeliverResult::failed(what);
}

} // namespace bluesky

static const relais_config_key bluesky_keys[] = {
    {"service", RELAIS_CONFIG_STRING, "https://bsky.social", 0, "the account's server (PDS): sign-in and posting"},
    {"identifier", RELAIS_CONFIG_STRING, nullptr, 1, "the account's handle, DID or e-mail"},
    {"app_password", RELAIS_CONFIG_STRING, nullptr, 1, "an app password for it (use ${env:…} or ${file:…})"},
    {"watch", RELAIS_CONFIG_BOOL, "true", 0, "read the firehose and emit matching posts"},
    {"firehose", RELAIS_CONFIG_STRING, nullptr, 0,
     "ws(s) URL of com.atproto.sync.subscribeRepos; default: the service's own (wss://bsky.network for all)"},
    {"plc_directory", RELAIS_CONFIG_STRING, "https://plc.directory", 0, "where did:plc DIDs are looked up"},
    {"follow", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "handles or DIDs whose every post is emitted"},
    {"mentions", RELAIS_CONFIG_STRING_LIST, nullptr, 0,
     "handles or DIDs whose mentions are emitted; default: the signed-in account"},
    {"keywords", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "posts containing one of these (any case) are emitted"},
    {"post_url_base", RELAIS_CONFIG_STRING, "https://bsky.app", 0,
     "base of the post links: BASE/profile/HANDLE/post/RKEY"},
    {"langs", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "languages written into posts, e.g. [fr, en]"},
    {"channel", RELAIS_CONFIG_STRING, nullptr, 0, "channel of emitted messages; default: mention, follow or keyword"},
    {"timeout", RELAIS_CONFIG_DURATION, "15s", 0, "for each HTTP call and for connecting to the firehose"},
    {"reconnect_min", RELAIS_CONFIG_DURATION, "1s", 0,
     "first wait before reconnecting to the firehose, doubled each failure"},
    {"reconnect_max", RELAIS_CONFIG_DURATION, "60s", 0, "the longest wait between reconnections"},
    {"tls_ca", RELAIS_CONFIG_STRING, nullptr, 0, "a CA file (PEM) for https/wss; default: the system's CAs"},
};
RELAIS_PLUGIN(bluesky::Bluesky, "bluesky", "1.0.0", "Bluesky (AT Protocol): posts, replies, and watches the firehose",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_PUBLIC, bluesky_keys)
