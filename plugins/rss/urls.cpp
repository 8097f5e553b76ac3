// urls.cpp — feed locations and relative link resolution, over Boost.URL.
#include "urls.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <filesystem>

namespace relais::rss {
namespace {

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// Percent-encodes the characters feeds leave raw in links but URLs may not hold (space, non-ASCII, quotes…).
std::string encode_loose(const std::string &s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
            c == '{' || c == '|' || c == '}') {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string file_url_of(const std::filesystem::path &absolute) {
    boost::urls::url u;
    u.set_scheme("file");
    u.set_encoded_host("");
    u.set_path(absolute.generic_string());
    return std::string(u.buffer());
}

} // namespace

std::optional<FeedLocation> parse_location(const std::string &raw, std::string &error) {
    std::string text = trim(raw);
    if (text.empty()) {
        error = "is empty; write the feed's address, e.g. https://example.com/feed.xml or ./feeds/news.xml";
        return std::nullopt;
    }
    size_t colon = text.find(':');
    bool has_scheme = colon != std::string::npos && colon > 1 && text.compare(colon, 3, "://") == 0;
    if (!has_scheme) {
        std::error_code ec;
        auto abs = std::filesystem::absolute(text, ec);
        if (ec) {
            error = "cannot make \"" + text + "\" an absolute path: " + ec.message();
            return std::nullopt;
        }
        abs = abs.lexically_normal();
        return FeedLocation{true, file_url_of(abs), abs.string()};
    }
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) {
        error = "\"" + text + "\" is not a valid URL (" + parsed.error().message() +
                "); write e.g. https://example.com/feed.xml";
        return std::nullopt;
    }
    std::string scheme(parsed->scheme());
    for (char &c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "http" || scheme == "https") {
        if (parsed->host().empty()) {
            error = "\"" + text + "\" has no host; write e.g. https://example.com/feed.xml";
            return std::nullopt;
        }
        return FeedLocation{false, text, {}};
    }
    if (scheme == "file") {
        std::string host(parsed->host());
        if (!host.empty() && host != "localhost") {
            error = "\"" + text + "\" names host \"" + host +
                    "\"; a file:// URL reads a local file: write file:///absolute/path.xml or a plain path";
            return std::nullopt;
        }
        std::string path(parsed->path()); // percent-decoded
        if (path.empty() || path[0] != '/') {
            error = "\"" + text + "\" has no absolute path; write file:///absolute/path.xml or a plain path";
            return std::nullopt;
        }
        std::filesystem::path p = std::filesystem::path(path).lexically_normal();
        return FeedLocation{true, file_url_of(p), p.string()};
    }
    error = "scheme \"" + scheme + "\" is not supported; use http://, https://, file:// or a file path";
    return std::nullopt;
}

std::string resolve_url(const std::string &base, const std::string &raw_ref) {
    std::string ref = trim(raw_ref);
    if (ref.empty()) return ref;
    auto r = boost::urls::parse_uri_reference(ref);
    std::string encoded;
    if (!r) {
        encoded = encode_loose(ref);
        r = boost::urls::parse_uri_reference(encoded);
        if (!r) return ref;
    }
    if (r->has_scheme()) return ref;
    auto b = boost::urls::parse_uri(base);
    if (!b) return ref;
    boost::urls::url out;
    if (!boost::urls::resolve(*b, *r, out)) return ref;
    return std::string(out.buffer());
}

} // namespace relais::rss
