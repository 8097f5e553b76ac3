// item_identity.cpp — link normalisation for the cross-feed dedupe, over Boost.URL.
#include "item_identity.hpp"

#include "html_text.hpp"

#include <boost/url.hpp>

#include <algorithm>

namespace relais::rss {
namespace {

std::string trimmed(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool is_tracking_parameter(std::string key) {
    key = to_lower(key);
    static constexpr std::string_view exact[] = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid",
                                                 "igshid", "yclid", "_hsenc", "_hsmi", "ref_src"};
    return key.rfind("utm_", 0) == 0 || std::find(std::begin(exact), std::end(exact), key) != std::end(exact);
}

// google.com/url?url=TARGET (or q=TARGET) → TARGET, when the target is an http(s) URL.
std::optional<std::string> google_redirect_target(const boost::urls::url_view &u) {
    std::string host = to_lower(std::string(u.encoded_host()));
    if (host.rfind("www.", 0) == 0) host.erase(0, 4);
    if (host != "google.com" || u.path() != "/url") return std::nullopt;
    for (const char *name : {"url", "q"}) {
        auto it = u.params().find(name);
        if (it == u.params().end() || !(*it).has_value) continue;
        std::string target = (*it).value;
        if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) return target;
    }
    return std::nullopt;
}

} // namespace

std::string normalise_link(const std::string &link) {
    std::string text = trimmed(link);
    for (int unwrap = 0; unwrap < 3; ++unwrap) { // bounded: a redirect to a redirect to…
        auto parsed = boost::urls::parse_uri(text);
        if (!parsed) return text;
        auto target = google_redirect_target(*parsed);
        if (!target) break;
        text = *target;
    }
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) return text;
    boost::urls::url u = *parsed;
    const std::string scheme = to_lower(std::string(u.scheme()));
    if (scheme != "http" && scheme != "https") return text;

    std::string host = to_lower(std::string(u.encoded_host()));
    if (host.rfind("www.", 0) == 0) host.erase(0, 4);
    std::string port(u.port());
    if (port == "80" || port == "443") port.clear();

    std::string path(u.encoded_path());
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path == "/") path.clear();

    std::string query;
    for (auto param : u.encoded_params()) {
        if (is_tracking_parameter(std::string(param.key))) continue;
        query += query.empty() ? "?" : "&";
        query += param.key;
        if (param.has_value) query += "=" + std::string(param.value);
    }
    return host + (port.empty() ? "" : ":" + port) + path + query; // no fragment, no scheme
}

std::string item_fingerprint(const FeedItem &item) {
    if (!item.link.empty()) return "link:" + normalise_link(item.link);
    std::string title = collapse_whitespace(to_lower(item.title));
    if (!title.empty()) return "title:" + title;
    return {};
}

} // namespace relais::rss
