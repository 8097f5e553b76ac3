// feed_parser.cpp — RSS, RDF and Atom over pugixml, JSON Feed over Boost.JSON, into one item shape.
#include "feed_parser.hpp"

#include "charset.hpp"
#include "dates.hpp"
#include "hash.hpp"
#include "html_text.hpp"
#include "urls.hpp"

#include <boost/json.hpp>
#include <pugixml.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <unordered_set>

namespace relais::rss {
namespace {

// ---- namespaces (pugixml keeps "prefix:local" names; we resolve prefixes ourselves) ----

constexpr std::string_view ns_atom = "http://www.w3.org/2005/Atom";
constexpr std::string_view ns_rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
constexpr std::string_view ns_rss10 = "http://purl.org/rss/1.0/";
constexpr std::string_view ns_rss090 = "http://my.netscape.com/rdf/simple/0.9/";
constexpr std::string_view ns_dc = "http://purl.org/dc/elements/1.1/";
constexpr std::string_view ns_dcterms = "http://purl.org/dc/terms/";
constexpr std::string_view ns_content = "http://purl.org/rss/1.0/modules/content/";
constexpr std::string_view ns_media = "http://search.yahoo.com/mrss/";
constexpr std::string_view ns_xml = "http://www.w3.org/XML/1998/namespace";

std::string_view local_name(const pugi::xml_node &n) {
    std::string_view name = n.name();
    size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string ns_of(const pugi::xml_node &n) {
    std::string_view name = n.name();
    size_t colon = name.find(':');
    std::string prefix = colon == std::string_view::npos ? "" : std::string(name.substr(0, colon));
    if (prefix == "xml") return std::string(ns_xml);
    std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
    for (pugi::xml_node p = n; p && p.type() == pugi::node_element; p = p.parent())
        if (pugi::xml_attribute a = p.attribute(attr.c_str())) return a.value();
    return {};
}

bool is(const pugi::xml_node &n, std::string_view ns, std::string_view local) {
    return n.type() == pugi::node_element && local_name(n) == local && ns_of(n) == ns;
}

std::vector<pugi::xml_node> children(const pugi::xml_node &parent, std::string_view ns, std::string_view local) {
    std::vector<pugi::xml_node> out;
    for (pugi::xml_node c : parent.children())
        if (is(c, ns, local)) out.push_back(c);
    return out;
}

pugi::xml_node child(const pugi::xml_node &parent, std::string_view ns, std::string_view local) {
    for (pugi::xml_node c : parent.children())
        if (is(c, ns, local)) return c;
    return {};
}

// ---- text ----

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// Every character of the element's text, markup children included (as their text).
void collect_text(const pugi::xml_node &n, std::string &out, int depth) {
    if (depth > 64) return; // a hostile document cannot make this recursion deep
    for (pugi::xml_node c : n.children()) {
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
        else if (c.type() == pugi::node_element) collect_text(c, out, depth + 1);
    }
}
std::string all_text(const pugi::xml_node &n) {
    std::string out;
    collect_text(n, out, 0);
    return out;
}

// The element's content as HTML source: text is HTML already (escaped HTML or CDATA); child elements (raw
// HTML inside the XML, or Atom's xhtml div) are serialised back.
std::string html_source(const pugi::xml_node &n) {
    std::string out;
    for (pugi::xml_node c : n.children()) {
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
            out += c.value();
        } else if (c.type() == pugi::node_element) {
            std::ostringstream os;
            c.print(os, "", pugi::format_raw);
            out += os.str();
        }
    }
    return out;
}

std::string clean_title(std::string text, Markup markup) {
    return truncate_text(html_to_text(text, markup), max_title_chars);
}
std::string clean_summary(std::string text, Markup markup) {
    return truncate_text(html_to_text(text, markup), max_summary_chars);
}

// An Atom text construct (type text, html or xhtml) as plain text.
std::string atom_text(const pugi::xml_node &n, size_t max_chars) {
    std::string type = n.attribute("type").value();
    std::string text;
    if (type == "html" || type == "text/html" || type == "xhtml" || type == "application/xhtml+xml")
        text = html_to_text(html_source(n), Markup::html);
    else
        text = html_to_text(all_text(n), Markup::text);
    return truncate_text(text, max_chars);
}

// "en-us" → "en-US", "fr_fr" → "fr-FR".
std::string normalise_language(std::string_view raw) {
    std::string s = trim(raw), out;
    size_t start = 0, index = 0;
    while (start <= s.size() && !s.empty()) {
        size_t end = s.find_first_of("-_", start);
        std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
        for (size_t k = 0; k < part.size(); ++k) {
            char c = part[k];
            bool upper = (index > 0 && part.size() == 2) || (index > 0 && part.size() == 4 && k == 0);
            c = upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                      : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            part[k] = c;
        }
        if (!out.empty()) out += '-';
        out += part;
        ++index;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

void add_tag(FeedItem &item, std::string_view raw) {
    std::string tag = to_lower(html_to_text(raw, Markup::text));
    while (!tag.empty() && tag.front() == '#') tag.erase(tag.begin());
    tag = trim(tag);
    if (tag.empty() || std::find(item.tags.begin(), item.tags.end(), tag) != item.tags.end()) return;
    item.tags.push_back(std::move(tag));
}

void add_attachment(FeedItem &item, std::string url, std::string type, std::string_view length, std::string name) {
    if (url.empty()) return;
    for (const auto &a : item.attachments)
        if (a.url == url) return;
    Attachment a;
    a.url = std::move(url);
    a.mime_type = trim(type);
    uint64_t size = 0;
    std::string len = trim(length);
    if (!len.empty() && len.size() < 19 && std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; })) size = std::stoull(len);
    a.size_bytes = size;
    if (name.empty()) { // the file name in the URL
        std::string_view u = a.url;
        u = u.substr(0, u.find_first_of("?#"));
        size_t slash = u.rfind('/');
        if (slash != std::string_view::npos && slash + 1 < u.size()) name = std::string(u.substr(slash + 1));
    }
    a.name = std::move(name);
    item.attachments.push_back(std::move(a));
}

// "jdoe@example.com (John Doe)", "John Doe <jdoe@example.com>", "John Doe" or "jdoe@example.com".
void set_rss_author(FeedItem &item, std::string_view raw) {
    std::string s = html_to_text(raw, Markup::text);
    if (s.empty()) return;
    size_t open = s.find('('), close = s.rfind(')');
    if (open != std::string::npos && close != std::string::npos && close > open) {
        item.author = trim(s.substr(open + 1, close - open - 1));
        item.author_id = trim(s.substr(0, open));
    } else if ((open = s.find('<')) != std::string::npos && (close = s.rfind('>')) != std::string::npos &&
               close > open) {
        item.author = trim(s.substr(0, open));
        item.author_id = trim(s.substr(open + 1, close - open - 1));
    } else {
        item.author = s;
        if (s.find('@') != std::string::npos && s.find(' ') == std::string::npos) item.author_id = s;
    }
    if (item.author.empty()) item.author = item.author_id;
}

int64_t date_of(std::string_view raw) { return parse_date(trim(raw)).value_or(0); }

// The id of an item that has none: its link, else a hash of what identifies it.
void settle_id(FeedItem &item, std::string_view date_text) {
    item.id = trim(item.id);
    if (!item.id.empty()) return;
    if (!item.link.empty()) {
        item.id = item.link;
        return;
    }
    std::string key = item.title + "\n" + std::string(date_text);
    if (item.title.empty()) key += "\n" + item.summary;
    item.id = "hash:" + hash_hex(key);
}

// The base URL in effect at an element: the feed URL with every xml:base from the root down applied.
std::string base_of(const pugi::xml_node &n, const std::string &feed_url) {
    std::vector<std::string> bases;
    for (pugi::xml_node p = n; p && p.type() == pugi::node_element; p = p.parent())
        if (pugi::xml_attribute a = p.attribute("xml:base")) bases.push_back(a.value());
    std::string base = feed_url;
    for (auto it = bases.rbegin(); it != bases.rend(); ++it) base = resolve_url(base, *it);
    return base;
}

std::string lang_of(const pugi::xml_node &n) {
    for (pugi::xml_node p = n; p && p.type() == pugi::node_element; p = p.parent())
        if (pugi::xml_attribute a = p.attribute("xml:lang"); a && *a.value()) return normalise_language(a.value());
    return {};
}

// ---- RSS 0.9x / 2.0 and RSS 0.90 / 1.0 (RDF) ----

FeedItem rss_item(const pugi::xml_node &n, const std::string &feed_url, bool rdf) {
    const std::string ns = ns_of(n); // the item's own elements share its namespace
    const std::string base = base_of(n, feed_url);
    FeedItem item;

    item.title = clean_title(all_text(child(n, ns, "title")), Markup::html_known);

    pugi::xml_node guid = child(n, ns, "guid");
    item.id = trim(all_text(guid));
    if (rdf && item.id.empty()) item.id = trim(n.attribute("rdf:about").value());

    std::string link = trim(all_text(child(n, ns, "link")));
    if (link.empty())
        for (pugi::xml_node l : children(n, ns_atom, "link")) {
            std::string rel = l.attribute("rel").value();
            if (rel.empty() || rel == "alternate") {
                link = l.attribute("href").value();
                break;
            }
        }
    if (link.empty() && guid && std::string_view(guid.attribute("isPermaLink").value()) != "false" &&
        (item.id.rfind("http://", 0) == 0 || item.id.rfind("https://", 0) == 0))
        link = item.id;
    item.link = resolve_url(base, link);

    pugi::xml_node description = child(n, ns, "description");
    if (!description) description = child(n, ns_content, "encoded");
    if (!description) description = child(n, ns_dc, "description");
    item.summary = clean_summary(html_source(description), Markup::html);

    if (pugi::xml_node a = child(n, ns, "author")) set_rss_author(item, all_text(a));
    if (item.author.empty())
        if (pugi::xml_node a = child(n, ns_dc, "creator")) set_rss_author(item, all_text(a));

    std::string date_text;
    for (auto [space, name] : {std::pair{std::string_view(ns), std::string_view("pubDate")},
                               {ns_dc, "date"}, {ns_atom, "published"}, {ns_dcterms, "issued"}}) {
        if (pugi::xml_node d = child(n, space, name)) {
            date_text = trim(all_text(d));
            item.published_ms = date_of(date_text);
            if (item.published_ms) break;
        }
    }
    for (auto [space, name] : {std::pair{ns_atom, std::string_view("updated")}, {ns_dcterms, "modified"}})
        if (pugi::xml_node d = child(n, space, name); d && !item.updated_ms) item.updated_ms = date_of(all_text(d));

    for (pugi::xml_node c : children(n, ns, "category")) add_tag(item, all_text(c));
    for (pugi::xml_node c : children(n, ns_dc, "subject")) add_tag(item, all_text(c));

    for (pugi::xml_node e : children(n, ns, "enclosure"))
        add_attachment(item, resolve_url(base, e.attribute("url").value()), e.attribute("type").value(),
                       e.attribute("length").value(), {});
    for (pugi::xml_node e : children(n, ns_media, "content"))
        add_attachment(item, resolve_url(base, e.attribute("url").value()), e.attribute("type").value(),
                       e.attribute("fileSize").value(), {});
    for (pugi::xml_node l : children(n, ns_atom, "link"))
        if (std::string_view(l.attribute("rel").value()) == "enclosure")
            add_attachment(item, resolve_url(base, l.attribute("href").value()), l.attribute("type").value(),
                           l.attribute("length").value(), l.attribute("title").value());

    if (pugi::xml_node l = child(n, ns_dc, "language")) item.language = normalise_language(all_text(l));
    if (item.language.empty()) item.language = lang_of(n);
    settle_id(item, date_text);
    return item;
}

Feed parse_rss(const pugi::xml_node &root, const std::string &feed_url, bool rdf) {
    Feed feed;
    feed.format = rdf ? "rdf" : "rss";
    pugi::xml_node channel;
    for (pugi::xml_node c : root.children())
        if (c.type() == pugi::node_element && local_name(c) == "channel") {
            channel = c;
            break;
        }
    const std::string ns = channel ? ns_of(channel) : ns_of(root);
    if (channel) {
        feed.title = clean_title(all_text(child(channel, ns, "title")), Markup::html_known);
        feed.link = resolve_url(base_of(channel, feed_url), trim(all_text(child(channel, ns, "link"))));
        std::string lang = all_text(child(channel, ns, "language"));
        if (trim(lang).empty()) lang = all_text(child(channel, ns_dc, "language"));
        feed.language = normalise_language(lang);
        if (feed.language.empty()) feed.language = lang_of(channel);
    }
    // RSS 2.0 has its items in the channel, RDF beside it; tolerate either in both.
    std::vector<pugi::xml_node> nodes;
    for (const pugi::xml_node &parent : {channel, root})
        if (parent)
            for (pugi::xml_node c : parent.children())
                if (c.type() == pugi::node_element && local_name(c) == "item" &&
                    (ns_of(c) == ns || (rdf && (ns_of(c) == ns_rss10 || ns_of(c) == ns_rss090))))
                    nodes.push_back(c);
    for (const auto &n : nodes) {
        FeedItem item = rss_item(n, feed_url, rdf);
        if (item.language.empty()) item.language = feed.language;
        feed.items.push_back(std::move(item));
    }
    return feed;
}

// ---- Atom 1.0 ----

std::string atom_link(const pugi::xml_node &parent, const std::string &feed_url) {
    pugi::xml_node best;
    for (pugi::xml_node l : children(parent, ns_atom, "link")) {
        std::string_view rel = l.attribute("rel").value();
        if (!rel.empty() && rel != "alternate") continue;
        std::string_view type = l.attribute("type").value();
        if (!best || type == "text/html") best = l;
        if (type == "text/html") break;
    }
    if (!best) return {};
    return resolve_url(base_of(best, feed_url), best.attribute("href").value());
}

void atom_author(FeedItem &item, const pugi::xml_node &author) {
    if (!author) return;
    item.author = html_to_text(all_text(child(author, ns_atom, "name")), Markup::text);
    item.author_id = trim(all_text(child(author, ns_atom, "email")));
    if (item.author_id.empty()) item.author_id = trim(all_text(child(author, ns_atom, "uri")));
    if (item.author.empty()) item.author = item.author_id;
}

Feed parse_atom(const pugi::xml_node &root, const std::string &feed_url) {
    Feed feed;
    feed.format = "atom";
    feed.title = atom_text(child(root, ns_atom, "title"), max_title_chars);
    feed.link = atom_link(root, feed_url);
    feed.language = lang_of(root);
    pugi::xml_node feed_author = child(root, ns_atom, "author");

    for (pugi::xml_node e : children(root, ns_atom, "entry")) {
        FeedItem item;
        item.id = trim(all_text(child(e, ns_atom, "id")));
        item.title = atom_text(child(e, ns_atom, "title"), max_title_chars);
        item.link = atom_link(e, feed_url);

        pugi::xml_node summary = child(e, ns_atom, "summary");
        if (summary) item.summary = atom_text(summary, max_summary_chars);
        if (item.summary.empty())
            if (pugi::xml_node content = child(e, ns_atom, "content"); content && !content.attribute("src")) {
                std::string_view type = content.attribute("type").value();
                if (type.empty() || type == "text" || type == "html" || type == "xhtml" || type == "text/plain" ||
                    type == "text/html" || type == "application/xhtml+xml")
                    item.summary = atom_text(content, max_summary_chars);
            }

        pugi::xml_node author = child(e, ns_atom, "author");
        if (!author)
            if (pugi::xml_node source = child(e, ns_atom, "source")) author = child(source, ns_atom, "author");
        atom_author(item, author ? author : feed_author);

        std::string published = trim(all_text(child(e, ns_atom, "published")));
        std::string updated = trim(all_text(child(e, ns_atom, "updated")));
        item.published_ms = date_of(published);
        item.updated_ms = date_of(updated);

        for (pugi::xml_node c : children(e, ns_atom, "category")) {
            std::string term = c.attribute("term").value();
            add_tag(item, term.empty() ? c.attribute("label").value() : term);
        }
        for (pugi::xml_node l : children(e, ns_atom, "link"))
            if (std::string_view(l.attribute("rel").value()) == "enclosure")
                add_attachment(item, resolve_url(base_of(l, feed_url), l.attribute("href").value()),
                               l.attribute("type").value(), l.attribute("length").value(),
                               l.attribute("title").value());

        item.language = lang_of(e);
        if (item.language.empty()) item.language = feed.language;
        settle_id(item, published.empty() ? updated : published);
        feed.items.push_back(std::move(item));
    }
    return feed;
}

// ---- JSON Feed 1.x ----

std::string json_string(const boost::json::object &o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return {};
    const boost::json::value &v = it->value();
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    return {};
}

void json_author(FeedItem &item, const boost::json::object &o) {
    const boost::json::object *author = nullptr;
    if (auto it = o.find("authors"); it != o.end() && it->value().is_array()) {
        for (const auto &a : it->value().get_array())
            if (a.is_object()) {
                author = &a.get_object();
                break;
            }
    }
    if (!author)
        if (auto it = o.find("author"); it != o.end() && it->value().is_object()) author = &it->value().get_object();
    if (!author) return;
    item.author = html_to_text(json_string(*author, "name"), Markup::text);
    item.author_id = trim(json_string(*author, "url"));
    if (item.author.empty()) item.author = item.author_id;
}

Feed parse_json_feed(std::string_view text, const std::string &feed_url) {
    boost::json::error_code ec;
    boost::json::value doc = boost::json::parse(text, ec);
    if (ec) throw FeedError("malformed JSON: " + ec.message());
    if (!doc.is_object()) throw FeedError("the JSON document is not a JSON Feed (it is not an object)");
    const boost::json::object &root = doc.get_object();
    auto items_it = root.find("items");
    if (items_it == root.end() || !items_it->value().is_array())
        throw FeedError("the JSON document is not a JSON Feed (it has no \"items\" array)");

    Feed feed;
    feed.format = "json";
    feed.title = clean_title(json_string(root, "title"), Markup::html_known);
    feed.link = resolve_url(feed_url, json_string(root, "home_page_url"));
    feed.language = normalise_language(json_string(root, "language"));
    FeedItem feed_author;
    json_author(feed_author, root);

    for (const auto &v : items_it->value().get_array()) {
        if (!v.is_object()) continue;
        const boost::json::object &o = v.get_object();
        FeedItem item;
        item.id = json_string(o, "id");
        item.title = clean_title(json_string(o, "title"), Markup::html_known);
        std::string url = json_string(o, "url");
        if (url.empty()) url = json_string(o, "external_url");
        item.link = resolve_url(feed_url, url);

        std::string summary = json_string(o, "summary");
        if (trim(summary).empty()) summary = json_string(o, "content_text");
        if (!trim(summary).empty()) item.summary = clean_summary(summary, Markup::text);
        else item.summary = clean_summary(json_string(o, "content_html"), Markup::html);

        json_author(item, o);
        if (item.author.empty()) item.author = feed_author.author, item.author_id = feed_author.author_id;

        std::string published = json_string(o, "date_published"), modified = json_string(o, "date_modified");
        item.published_ms = date_of(published);
        item.updated_ms = date_of(modified);

        if (auto it = o.find("tags"); it != o.end() && it->value().is_array())
            for (const auto &t : it->value().get_array())
                if (t.is_string()) add_tag(item, std::string(t.get_string()));
        if (auto it = o.find("attachments"); it != o.end() && it->value().is_array())
            for (const auto &a : it->value().get_array()) {
                if (!a.is_object()) continue;
                const auto &ao = a.get_object();
                add_attachment(item, resolve_url(feed_url, json_string(ao, "url")), json_string(ao, "mime_type"),
                               json_string(ao, "size_in_bytes"), json_string(ao, "title"));
            }
        item.language = normalise_language(json_string(o, "language"));
        if (item.language.empty()) item.language = feed.language;
        settle_id(item, published.empty() ? modified : published);
        feed.items.push_back(std::move(item));
    }
    return feed;
}

// ---- the document ----

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

std::string_view skip_bom_and_space(std::string_view s) {
    if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    while (!s.empty() && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n')) s.remove_prefix(1);
    return s;
}

constexpr const char *html_page_error =
    "the document is an HTML page, not a feed (is the URL the site's page rather than its feed?)";

std::string where(std::string_view text, ptrdiff_t offset) {
    if (offset < 0 || static_cast<size_t>(offset) > text.size()) return "";
    size_t line = 1, column = 1;
    for (size_t i = 0; i < static_cast<size_t>(offset); ++i) {
        if (text[i] == '\n') ++line, column = 1;
        else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
    }
    return " at line " + std::to_string(line) + ", column " + std::to_string(column);
}

void dedupe(Feed &feed) {
    std::unordered_set<std::string> seen;
    std::vector<FeedItem> kept;
    kept.reserve(feed.items.size());
    for (auto &item : feed.items)
        if (seen.insert(item.id).second) kept.push_back(std::move(item));
    feed.items = std::move(kept);
}

} // namespace

Feed parse_feed(std::string_view body, const std::string &feed_url, const std::string &http_charset) {
    std::string_view start = skip_bom_and_space(body);
    if (start.empty()) throw FeedError("the document is empty");

    if (start[0] == '{') {
        std::string utf8;
        try {
            utf8 = feed_to_utf8(start, http_charset);
        } catch (const std::exception &e) {
            throw FeedError(e.what());
        }
        Feed feed = parse_json_feed(utf8, feed_url);
        dedupe(feed);
        return feed;
    }

    pugi::xml_document doc;
    pugi::xml_parse_result result;
    std::string utf8;
    const unsigned options = pugi::parse_default; // CDATA, entities, end-of-line normalisation
    if (looks_like_utf16_or_32(body)) {
        result = doc.load_buffer(body.data(), body.size(), options, pugi::encoding_auto);
    } else {
        if (start[0] != '<') throw FeedError("the document is neither XML nor JSON (it starts with \"" +
                                             repair_utf8(start.substr(0, std::min<size_t>(start.size(), 20))) + "\")");
        try {
            utf8 = feed_to_utf8(body, http_charset);
        } catch (const std::exception &e) {
            throw FeedError(e.what());
        }
        result = doc.load_buffer(utf8.data(), utf8.size(), options, pugi::encoding_utf8);
    }
    if (!result) {
        if (starts_with_ci(start, "<!doctype html") || starts_with_ci(start, "<html")) throw FeedError(html_page_error);
        std::string at = utf8.empty() ? " at byte " + std::to_string(result.offset) : where(utf8, result.offset);
        throw FeedError(std::string("malformed XML") + at + ": " + result.description());
    }

    pugi::xml_node root = doc.document_element();
    std::string_view name = local_name(root);
    std::string ns = ns_of(root);
    Feed feed;
    if (name == "rss") feed = parse_rss(root, feed_url, false);
    else if (name == "RDF" && ns == ns_rdf) feed = parse_rss(root, feed_url, true);
    else if (name == "feed" && ns == ns_atom) feed = parse_atom(root, feed_url);
    else if (name == "feed") throw FeedError("the root element <feed> is not in the Atom 1.0 namespace (" +
                                             std::string(ns_atom) + "); Atom 0.3 is not supported");
    else if (starts_with_ci(name, "html")) throw FeedError(html_page_error);
    else throw FeedError("the root element <" + std::string(root.name()) +
                         "> is not a feed (expected <rss>, <rdf:RDF> or Atom's <feed>)");
    dedupe(feed);
    return feed;
}

std::vector<FeedItem> oldest_first(std::vector<FeedItem> items) {
    std::reverse(items.begin(), items.end());
    bool all_dated = std::all_of(items.begin(), items.end(), [](const FeedItem &i) { return i.date_ms() != 0; });
    if (all_dated)
        std::stable_sort(items.begin(), items.end(),
                         [](const FeedItem &a, const FeedItem &b) { return a.date_ms() < b.date_ms(); });
    return items;
}

} // namespace relais::rss
