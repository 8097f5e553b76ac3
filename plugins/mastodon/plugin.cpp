// plugin.cpp — the mastodon connector: relays mentions, hashtag and account timelines from a Mastodon server, and
// posts, edits and deletes statuses on it.
#include "api.hpp"
#include "config.hpp"
#include "poll_worker.hpp"
#include "poller.hpp"
#include "publisher.hpp"
#include "streamer.hpp"

#include <relais/plugin.hpp>

#include <memory>

namespace relais::mastodon {

class MastodonPlugin : public Plugin {
public:
    explicit MastodonPlugin(Host &h) : Plugin(h), config_(read_config(host())), api_(config_) {}

    void start() override {
        if (!config_.is_source()) return;
        poller_ = std::make_unique<Poller>(host(), config_, api_);
        worker_ = std::make_unique<PollWorker>([this] { poller_->poll_all(); });
        worker_->start();
        // The first poll at once: it catches up on what was said while the daemon was down.
        host().timer_start(0, config_.interval_ms, [this] { worker_->request(); });
        if (config_.streaming) {
            streamer_ = std::make_unique<Streamer>(host(), config_, *poller_);
            streamer_->start();
        }
    }

    void stop() override {
        if (poller_) poller_->stop();
        if (streamer_) streamer_->stop();
        if (worker_) worker_->stop();
    }

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        if (config_.token.empty())
            return DeliverResult::failed("posting needs `token` (an access token with the write:statuses scope)");
        DeliverResult r = publish(api_, config_, m, d);
        host().counter_add(r.status == RELAIS_DELIVERED ? "statuses_sent"
                           : r.status == RELAIS_RETRY   ? "send_retries"
                                                        : "send_failures");
        return r;
    }

private:
    MastodonConfig config_;
    Api api_;
    std::unique_ptr<Poller> poller_;
    std::unique_ptr<PollWorker> worker_;
    std::unique_ptr<Streamer> streamer_;
};

} // namespace relais::mastodon

static const relais_config_key mastodon_keys[] = {
    {"server", RELAIS_CONFIG_STRING, nullptr, 1, "the server's address, e.g. https://mastodon.social"},
    {"token", RELAIS_CONFIG_STRING, nullptr, 0,
     "access token (read for mentions and streaming, write:statuses to post); use ${env:…} or ${file:…}"},
    {"mentions", RELAIS_CONFIG_BOOL, "false", 0, "relay statuses that mention the account (channel `mentions`)"},
    {"hashtags", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "hashtag timelines to relay (channel `#tag`)"},
    {"accounts", RELAIS_CONFIG_STRING_LIST, nullptr, 0, "accounts whose statuses to relay, as alice or alice@host"},
    {"interval", RELAIS_CONFIG_DURATION, "60s", 0, "time between two polls of each stream"},
    {"streaming", RELAIS_CONFIG_BOOL, "false", 0,
     "also read the streaming API (user stream for mentions, hashtag streams) for live events, edits and deletes"},
    {"streaming_url", RELAIS_CONFIG_STRING, nullptr, 0, "the streaming server when it is not `server`"},
    {"reconnect", RELAIS_CONFIG_DURATION, "5s", 0, "first delay before reconnecting a stream (doubles up to 5m)"},
    {"visibilities", RELAIS_CONFIG_STRING_LIST, nullptr, 0,
     "visibilities relayed (public, unlisted, private, direct); default public and unlisted"},
    {"content_warning", RELAIS_CONFIG_STRING, "prefix", 0,
     "statuses with a content warning: prefix (CW then the text), hide (the CW only) or skip"},
    {"skip_existing", RELAIS_CONFIG_BOOL, "false", 0,
     "the first poll of a stream relays nothing, only notes where it stands"},
    {"page_limit", RELAIS_CONFIG_INT, "40", 0, "items asked for per request (1-40)"},
    {"post_visibility", RELAIS_CONFIG_STRING, "public", 0, "visibility of the statuses it posts"},
    {"timeout", RELAIS_CONFIG_DURATION, "10s", 0, "time allowed for one request, answer included"},
    {"verify_tls", RELAIS_CONFIG_BOOL, "true", 0, "check the server's certificate and name"},
    {"ca_file", RELAIS_CONFIG_STRING, nullptr, 0, "PEM file of CAs to trust instead of the system's"},
};

RELAIS_PLUGIN(relais::mastodon::MastodonPlugin, "mastodon", "0.1.0",
              "Relays Mastodon mentions, hashtags and accounts, and posts statuses",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_PUBLIC, mastodon_keys)
