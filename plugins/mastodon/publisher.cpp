// publisher.cpp — builds each request's JSON body and turns the answer into a DeliverResult.
#include "publisher.hpp"

#include "entities.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace relais::mastodon {
namespace json = boost::json;
namespace {

DeliverResult outcome(const std::string &what, const net::ClientResponse &r, bool missing_is_done = false) {
    if (r.ok()) {
        try {
            json::value v = parse_json(r.body);
            if (v.is_object())
                if (const json::value *id = v.get_object().if_contains("id"); id && id->is_string())
                    return DeliverResult::ok(std::string(id->get_string()));
        } catch (const PayloadError &) {}
        return DeliverResult::ok(); // done, even if the answer does not say the id
    }
    if (missing_is_done && r.status == 404) return DeliverResult::ok();
    std::string why = describe(what, r);
    if (r.status == 429 || r.status == 503) {
        auto delay = rate_limit_delay(r, now_ms());
        uint32_t ms = delay ? static_cast<uint32_t>(std::min<int64_t>(delay->count(), 3'600'000)) : 0;
        if (r.status == 429 && !delay) ms = 60'000; // a 429 with no hint: a rate-limit window is 5 minutes at most
        return DeliverResult::retry(why, ms);
    }
    if (r.status == 0 || r.status == 408 || r.status >= 500) return DeliverResult::retry(why);
    if (r.status == 401 || r.status == 403)
        return DeliverResult::failed(why + " (check `token` and that it has the write:statuses scope)");
    return DeliverResult::failed(why);
}

} // namespace

DeliverResult publish(const Api &api, const MastodonConfig &config, const Message &m, const Delivery &d) {
    std::string text = d.rendered.empty() ? m.text : d.rendered;
    if (text.empty()) // media cannot be uploaded from here: their addresses stand in for them
        for (const auto &a : m.attachments)
            text += (text.empty() ? "" : "\n") + a.url;
    std::string spoiler(m.meta("spoiler_text"));

    if (m.kind == Kind::remove) {
        if (d.reply_to.empty())
            return DeliverResult::failed("cannot delete: the deleted message was never posted by this instance");
        std::string path = "/api/v1/statuses/" + url_encode(d.reply_to);
        return outcome("DELETE " + path, api.send("DELETE", path, {}), true);
    }
    if (m.kind == Kind::reaction) {
        if (d.reply_to.empty())
            return DeliverResult::failed("cannot favourite: the message reacted to was never posted by this instance");
        std::string path = "/api/v1/statuses/" + url_encode(d.reply_to) + "/favourite";
        return outcome("POST " + path, api.send("POST", path, {}, d.delivery_key));
    }
    if (text.empty()) return DeliverResult::failed("nothing to post: the message's text is empty");

    json::object body;
    body["status"] = text;
    if (!m.language.empty()) body["language"] = m.language;
    if (!spoiler.empty()) body["spoiler_text"] = spoiler;

    if (m.kind == Kind::edit) {
        if (d.reply_to.empty())
            return DeliverResult::failed("cannot edit: the edited message was never posted by this instance");
        std::string path = "/api/v1/statuses/" + url_encode(d.reply_to);
        DeliverResult r = outcome("PUT " + path, api.send("PUT", path, json::serialize(body)));
        if (r.status == RELAIS_DELIVERED && r.native_id.empty()) r.native_id = d.reply_to;
        return r;
    }
    body["visibility"] = config.post_visibility;
    if (!d.reply_to.empty()) body["in_reply_to_id"] = d.reply_to;
    return outcome("POST /api/v1/statuses",
                   api.send("POST", "/api/v1/statuses", json::serialize(body), d.delivery_key));
}

} // namespace relais::mastodon
