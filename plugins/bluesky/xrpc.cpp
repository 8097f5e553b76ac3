#include "xrpc.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace bluesky {

namespace json = boost::json;

namespace {

int64_t now_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string base64url_decode(std::string_view in) {
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-' || c == '+') v = 62;
        else if (c == '_' || c == '/') v = 63;
        else if (c == '=') break;
        else return {};
        buffer = (buffer << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return out;
}

std::string string_at(const json::value &v, std::string_view key) {
    if (!v.is_object()) return {};
    const json::value *s = v.as_object().if_contains(key);
    return s && s->is_string() ? std::string(s->as_string()) : std::string();
}

bool token_expired(const XrpcResult &r) {
    return (r.status == 400 || r.status == 401) && (r.error == "ExpiredToken" || r.error == "InvalidToken");
}

} // namespace

std::string url_encode(std::string_view s) {
    return boost::urls::encode(s, boost::urls::unreserved_chars); // RFC 3986 unreserved stay, the rest %XX
}

std::string XrpcResult::describe() const {
    if (status == 0) return "no answer: " + error;
    std::string out = std::to_string(status);
    if (!error.empty()) out += " " + error;
    if (!message.empty()) out += ": " + message;
    return out;
}

uint32_t retry_after_ms(const std::map<std::string, std::string> &headers, int64_t now_unix_ms) {
    constexpr int64_t cap = 3'600'000;
    if (auto it = headers.find("ratelimit-reset"); it != headers.end()) {
        try {
            size_t used = 0;
            int64_t reset_s = std::stoll(it->second, &used);
            if (used == it->second.size())
                return static_cast<uint32_t>(std::clamp<int64_t>(reset_s * 1000 - now_unix_ms, 0, cap));
        } catch (const std::exception &) {
        }
    }
    if (auto it = headers.find("retry-after"); it != headers.end())
        if (auto ms = relais::net::parse_retry_after(it->second))
            return static_cast<uint32_t>(std::clamp<int64_t>(ms->count(), 0, cap));
    return 0;
}

std::optional<int64_t> jwt_expiry(const std::string &jwt) {
    size_t first = jwt.find('.');
    size_t second = first == std::string::npos ? first : jwt.find('.', first + 1);
    if (second == std::string::npos) return std::nullopt;
    std::string payload = base64url_decode(std::string_view(jwt).substr(first + 1, second - first - 1));
    json::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const json::value *exp = v.as_object().if_contains("exp");
    if (!exp || !exp->is_number()) return std::nullopt;
    return exp->to_number<int64_t>();
}

relais::net::ClientResponse Xrpc::get_url(const std::string &url) {
    relais::net::ClientRequest req;
    req.url = url;
    req.timeout = options_.timeout;
    req.ca_file = options_.ca_file;
    req.headers = {{"Accept", "application/json"}, {"User-Agent", "relais-bluesky"}};
    return client_.request(req);
}

XrpcResult Xrpc::send(const std::string &method, const std::string &nsid, const std::string &query,
                      const std::string &body, const std::string &bearer) {
    relais::net::ClientRequest req;
    req.method = method;
    req.url = options_.service + "/xrpc/" + nsid + (query.empty() ? "" : "?" + query);
    req.timeout = options_.timeout;
    req.ca_file = options_.ca_file;
    req.headers = {{"Accept", "application/json"}, {"User-Agent", "relais-bluesky"}};
    if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (method == "POST" && !body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = body;
    }
    relais::net::ClientResponse res = client_.request(req);
    XrpcResult out;
    out.status = res.status;
    if (res.status == 0) {
        out.error = res.error.empty() ? "no answer from " + options_.service : res.error;
        return out;
    }
    json::error_code ec;
    if (!res.body.empty()) out.body = json::parse(res.body, ec);
    if (ec) out.body = nullptr;
    out.error = string_at(out.body, "error");
    out.message = string_at(out.body, "message");
    if (!out.ok() && out.message.empty() && out.error.empty()) out.message = res.body.substr(0, 200);
    if (res.status == 429 || res.status == 503) out.retry_after_ms = retry_after_ms(res.headers, now_unix_ms());
    return out;
}

XrpcResult Xrpc::query(const std::string &nsid, const std::map<std::string, std::string> &params) {
    std::string q;
    for (const auto &[k, v] : params) q += (q.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
    return send("GET", nsid, q, "", "");
}

XrpcResult Xrpc::query_authed(const std::string &nsid, const std::map<std::string, std::string> &params) {
    std::string q;
    for (const auto &[k, v] : params) q += (q.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
    return authed("GET", nsid, q, "");
}

XrpcResult Xrpc::procedure_authed(const std::string &nsid, const json::value &body) {
    return authed("POST", nsid, "", json::serialize(body));
}

XrpcResult Xrpc::authed(const std::string &method, const std::string &nsid, const std::string &query,
                        const std::string &body) {
    std::string token;
    {
        std::lock_guard lock(mutex_);
        try {
            token = session_locked(false);
        } catch (const std::exception &e) {
            XrpcResult r;
            r.error = e.what();
            return r;
        }
    }
    XrpcResult r = send(method, nsid, query, body, token);
    if (!token_expired(r)) return r;
    {
        std::lock_guard lock(mutex_);
        if (access_ == token) { // nobody refreshed meanwhile
            try {
                token = session_locked(true);
            } catch (const std::exception &e) {
                r.error = e.what();
                r.status = 0;
                return r;
            }
        } else {
            token = access_;
        }
    }
    return send(method, nsid, query, body, token);
}

std::string Xrpc::ensure_session() {
    std::lock_guard lock(mutex_);
    try {
        session_locked(false);
        return {};
    } catch (const std::exception &e) {
        return e.what();
    }
}

std::string Xrpc::did() const {
    std::lock_guard lock(mutex_);
    return did_;
}

std::string Xrpc::handle() const {
    std::lock_guard lock(mutex_);
    return handle_;
}

std::string Xrpc::session_locked(bool force_refresh) {
    std::string why;
    int64_t now_s = now_unix_ms() / 1000;
    bool stale = access_expiry_ && now_s + options_.refresh_margin.count() >= access_expiry_;
    if (!access_.empty() && !force_refresh && !stale) return access_;
    if (!refresh_.empty()) {
        if (refresh_session_locked(why)) return access_;
        if (why.find("(transient)") != std::string::npos) throw std::runtime_error(why);
    }
    if (!create_session_locked(why)) throw std::runtime_error(why);
    return access_;
}

void Xrpc::take_session_locked(const json::value &body) {
    access_ = string_at(body, "accessJwt");
    refresh_ = string_at(body, "refreshJwt");
    if (auto d = string_at(body, "did"); !d.empty()) did_ = d;
    if (auto h = string_at(body, "handle"); !h.empty()) handle_ = h;
    access_expiry_ = jwt_expiry(access_).value_or(0);
}

bool Xrpc::create_session_locked(std::string &why) {
    json::object body{{"identifier", options_.identifier}, {"password", options_.password}};
    XrpcResult r = send("POST", "com.atproto.server.createSession", "", json::serialize(body), "");
    if (!r.ok() || string_at(r.body, "accessJwt").empty()) {
        access_.clear();
        refresh_.clear();
        why = "cannot sign in to " + options_.service + " as " + options_.identifier + " (" + r.describe() + ")" +
              (r.status == 401 ? ": check identifier and app_password" : "");
        return false;
    }
    take_session_locked(r.body);
    ++logins_;
    if (options_.on_session)
        options_.on_session("signed in to " + options_.service + " as " + handle_ + " (" + did_ + ")");
    return true;
}

bool Xrpc::refresh_session_locked(std::string &why) {
    XrpcResult r = send("POST", "com.atproto.server.refreshSession", "", "", refresh_);
    if (!r.ok() || string_at(r.body, "accessJwt").empty()) {
        why = "cannot refresh the session (" + r.describe() + ")" + (r.transient() ? " (transient)" : "");
        if (!r.transient()) refresh_.clear();
        return false;
    }
    take_session_locked(r.body);
    ++refreshes_;
    if (options_.on_session) options_.on_session("session refreshed on " + options_.service);
    return true;
}

} // namespace bluesky
