#include "post_record.hpp"

#include <boost/json.hpp>

#include <ctime>

namespace bluesky {

namespace json = boost::json;

json::object make_post_record(const std::string &text, const HandleResolver &resolve,
                              const std::optional<ReplyRefs> &reply, const std::vector<std::string> &langs,
                              const std::string &created_at) {
    json::object record{{"$type", "app.bsky.feed.post"}, {"text", text}, {"createdAt", created_at}};
    json::array facets;
    for (const FacetSpan &span : find_facets(text)) {
        json::object feature;
        if (span.kind == FacetSpan::Kind::link) {
            feature = {{"$type", "app.bsky.richtext.facet#link"}, {"uri", span.value}};
        } else if (span.kind == FacetSpan::Kind::tag) {
            feature = {{"$type", "app.bsky.richtext.facet#tag"}, {"tag", span.value}};
        } else {
            auto did = resolve ? resolve(span.value) : std::nullopt;
            if (!did) continue;
            feature = {{"$type", "app.bsky.richtext.facet#mention"}, {"did", *did}};
        }
        json::object index{{"byteStart", span.byte_start}, {"byteEnd", span.byte_end}};
        facets.push_back(json::object{{"index", index}, {"features", json::array{feature}}});
    }
    if (!facets.empty()) record["facets"] = std::move(facets);
    if (reply) {
        record["reply"] = json::object{
            {"root", json::object{{"uri", reply->root.uri}, {"cid", reply->root.cid}}},
            {"parent", json::object{{"uri", reply->parent.uri}, {"cid", reply->parent.cid}}}};
    }
    if (!langs.empty()) {
        json::array l;
        for (const auto &lang : langs) l.emplace_back(lang);
        record["langs"] = std::move(l);
    }
    return record;
}

std::string make_tid(uint64_t unix_micros, uint32_t clock_id) {
    static const char alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
    uint64_t value = ((unix_micros & ((1ULL << 53) - 1)) << 10) | (clock_id & 1023);
    std::string out(13, '2');
    for (int i = 12; i >= 0; --i) {
        out[i] = alphabet[value & 31];
        value >>= 5;
    }
    return out;
}

std::string iso_time(int64_t unix_ms) {
    std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
    return buffer;
}

std::optional<int64_t> parse_iso_time(const std::string &text) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    size_t i = static_cast<size_t>(consumed);
    if (i < text.size() && text[i] == '.') {
        int64_t scale = 100;
        for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, scale /= 10) ms += (text[i] - '0') * scale;
    }
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        int hours = 0, minutes = 0;
        if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
        int64_t offset = (hours * 60 + minutes) * 60'000LL;
        ms += text[i] == '+' ? -offset : offset;
    }
    return ms;
}

std::optional<AtUri> parse_at_uri(const std::string &uri) {
    if (uri.rfind("at://", 0) != 0) return std::nullopt;
    std::string rest = uri.substr(5);
    size_t a = rest.find('/');
    size_t b = a == std::string::npos ? a : rest.find('/', a + 1);
    if (b == std::string::npos || rest.find('/', b + 1) != std::string::npos) return std::nullopt;
    AtUri out{rest.substr(0, a), rest.substr(a + 1, b - a - 1), rest.substr(b + 1)};
    if (out.repo.empty() || out.collection.empty() || out.rkey.empty()) return std::nullopt;
    return out;
}

} // namespace bluesky
