#include "outbound.hpp"

#include <relais/message_json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <limits>

namespace relais::webhook {
namespace json = boost::json;

std::optional<Format> parse_format(std::string_view name) {
    if (name == "json") return Format::json;
    if (name == "slack") return Format::slack;
    return std::nullopt;
}

std::string build_payload(Format format, const Message &m, const Delivery &d) {
    const std::string &rendered = d.rendered.empty() ? m.text : d.rendered;
    if (format == Format::slack) {
        json::object o;
        o["text"] = rendered;
        const std::string &author = m.author.empty() ? m.author_id : m.author;
        if (!author.empty()) o["username"] = author;
        if (!d.channel.empty()) o["channel"] = d.channel;
        if (!d.reply_to.empty()) o["thread_ts"] = d.reply_to;
        return json::serialize(o);
    }
    json::object o = message_to_json_value(m);
    o["rendered"] = rendered;
    o["delivery"] = json::object{
        {"channel", d.channel}, {"key", d.delivery_key}, {"attempt", d.attempt}, {"reply_to", d.reply_to}};
    return json::serialize(o);
}

namespace {

// The start of an answer's body, on one line, for an error message.
std::string snippet(const std::string &body) {
    std::string s = body.substr(0, 200);
    for (char &c : s)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    if (body.size() > 200) s += "…";
    return s;
}

uint32_t retry_after_ms(const net::ClientResponse &res) {
    auto ms = net::parse_retry_after(res.header("retry-after"));
    if (!ms) return 0;
    auto n = std::min<int64_t>(ms->count(), std::numeric_limits<uint32_t>::max());
    return static_cast<uint32_t>(std::max<int64_t>(n, 0));
}

std::string id_from(const std::string &body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const json::value *id = v.get_object().if_contains("id");
    if (!id) return {};
    if (id->is_string()) return std::string(id->get_string());
    if (id->is_number()) return json::serialize(*id);
    return {};
}

} // namespace

DeliverResult verdict(const net::ClientResponse &res, const std::string &where) {
    if (res.status == 0) return DeliverResult::retry("POST to " + where + " failed: " + res.error);
    std::string answered = where + " answered HTTP " + std::to_string(res.status);
    if (res.ok()) return DeliverResult::ok(id_from(res.body));
    if (res.status == 408 || res.status == 425 || res.status == 429 || res.status >= 500)
        return DeliverResult::retry(answered + (res.body.empty() ? "" : ": " + snippet(res.body)),
                                    retry_after_ms(res));
    if (res.status >= 300 && res.status < 400) {
        std::string location = res.header("location");
        std::string to = location.find("://") != std::string::npos ? " to " + url_origin(location) : "";
        return DeliverResult::failed(answered + ", a redirect" + to +
                                     ": redirects are not followed (a POST could turn into a GET); set `url` to "
                                     "the new address");
    }
    return DeliverResult::failed(answered + (res.body.empty() ? "" : ": " + snippet(res.body)));
}

std::string url_origin(const std::string &url) {
    size_t scheme = url.find("://");
    if (scheme == std::string::npos) return "the webhook URL";
    size_t end = url.find_first_of("/?#", scheme + 3);
    std::string origin = url.substr(0, end);
    size_t at = origin.find('@', scheme + 3); // user:password@host
    if (at != std::string::npos) origin = origin.substr(0, scheme + 3) + origin.substr(at + 1);
    return origin;
}

} // namespace relais::webhook
