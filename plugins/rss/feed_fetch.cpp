// feed_fetch.cpp — conditional GET through relais_net's blocking client; plain reads for file:// feeds.
#include "feed_fetch.hpp"

#include "charset.hpp"

#include <relais/net/http.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <strings.h>

namespace relais::rss {
namespace {

FetchResult read_file(const std::string &path) {
    FetchResult r;
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
        r.error = path + " is not a regular file";
        return r;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        r.error = "cannot read " + path + ": " + std::strerror(errno);
        return r;
    }
    in.seekg(0, std::ios::end);
    auto size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size > static_cast<std::streamoff>(max_file_bytes)) {
        r.error = path + " is larger than " + std::to_string(max_file_bytes >> 20) + " MiB";
        return r;
    }
    r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) {
        r.error = "cannot read " + path + ": " + std::strerror(errno);
        r.body.clear();
        return r;
    }
    r.outcome = FetchResult::Outcome::fresh;
    return r;
}

bool has_header(const std::vector<std::pair<std::string, std::string>> &headers, const char *name) {
    for (const auto &[k, v] : headers)
        if (strcasecmp(k.c_str(), name) == 0) return true;
    return false;
}

} // namespace

FetchResult fetch_feed(const FetchRequest &request) {
    if (request.location.is_file) return read_file(request.location.path);

    net::ClientRequest http;
    http.method = "GET";
    http.url = request.location.url;
    http.timeout = request.timeout;
    http.headers = request.headers;
    if (!has_header(http.headers, "User-Agent") && !request.user_agent.empty())
        http.headers.emplace_back("User-Agent", request.user_agent);
    if (!has_header(http.headers, "Accept"))
        http.headers.emplace_back("Accept", "application/rss+xml, application/atom+xml, application/feed+json, "
                                            "application/rdf+xml;q=0.9, application/json;q=0.8, "
                                            "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5");
    if (!request.etag.empty()) http.headers.emplace_back("If-None-Match", request.etag);
    if (!request.last_modified.empty()) http.headers.emplace_back("If-Modified-Since", request.last_modified);

    net::ClientResponse response = net::http_request(http);
    FetchResult r;
    r.status = response.status;
    if (response.status == 0) {
        r.error = response.error.empty() ? "no answer" : response.error;
        return r;
    }
    if (response.status == 304) {
        r.outcome = FetchResult::Outcome::not_modified;
        return r;
    }
    if (!response.ok()) {
        r.error = "HTTP " + std::to_string(response.status);
        if (response.status == 429 || response.status == 503) {
            std::string after = response.header("retry-after");
            if (!after.empty()) {
                r.retry_after = net::parse_retry_after(after);
                if (r.retry_after) r.error += " (Retry-After: " + after + ")";
            }
        }
        return r;
    }
    r.outcome = FetchResult::Outcome::fresh;
    r.body = std::move(response.body);
    r.etag = response.header("etag");
    r.last_modified = response.header("last-modified");
    r.charset = content_type_charset(response.header("content-type"));
    return r;
}

} // namespace relais::rss
