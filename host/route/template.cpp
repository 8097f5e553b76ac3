#include "route/template.hpp"

#include "config/diagnostics.hpp"

#include <ctime>
#include <map>

namespace relais {

namespace {
const std::map<std::string, int> &field_table() {
    static const std::map<std::string, int> table{
        {"text", 1}, {"author", 2}, {"author_id", 3}, {"network", 4}, {"source", 5}, {"channel", 6},
        {"link", 7}, {"tags", 8}, {"mentions", 9}, {"id", 10}, {"native_id", 11}, {"kind", 12},
        {"level", 13}, {"language", 14}, {"thread_id", 15}, {"time", 16}};
    return table;
}

std::string iso_time(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string join(const std::vector<std::string> &items, const char *prefix) {
    std::string out;
    for (const auto &s : items) {
        if (!out.empty()) out += ' ';
        out += prefix;
        out += s;
    }
    return out;
}
} // namespace

const std::vector<std::string> &Template::fields() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto &[name, n] : field_table()) v.push_back(name);
        v.push_back("meta.KEY");
        return v;
    }();
    return names;
}

std::optional<Template> Template::compile(const std::string &text, std::string &error) {
    Template t;
    t.source_ = text;
    std::string literal;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            literal += c; // {{ and }} are literal braces
            ++i;
            continue;
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        size_t end = text.find('}', i);
        if (end == std::string::npos) {
            error = "template \"" + text + "\": '{' without '}' (write {{ for a literal brace)";
            return std::nullopt;
        }
        std::string name = text.substr(i + 1, end - i - 1);
        if (!literal.empty()) t.parts_.push_back({Field::literal, std::move(literal)});
        literal.clear();
        if (name.rfind("meta.", 0) == 0 && name.size() > 5) {
            t.parts_.push_back({Field::meta, name.substr(5)});
        } else {
            auto it = field_table().find(name);
            if (it == field_table().end()) {
                std::vector<std::string> known;
                for (const auto &[n, v] : field_table()) known.push_back(n);
                error = "template \"" + text + "\": unknown placeholder {" + name + "}" + suggestion(name, known) +
                        "; known: {text} {author} {author_id} {network} {source} {channel} {link} {tags} "
                        "{mentions} {id} {native_id} {kind} {level} {language} {thread_id} {time} {meta.KEY}";
                return std::nullopt;
            }
            t.parts_.push_back({static_cast<Field>(it->second), {}});
        }
        i = end;
    }
    if (!literal.empty()) t.parts_.push_back({Field::literal, std::move(literal)});
    return t;
}

std::string Template::render(const Message &m) const {
    std::string out;
    out.reserve(m.text.size() + 64);
    for (const auto &p : parts_) {
        switch (p.field) {
        case Field::literal: out += p.text; break;
        case Field::text: out += m.text; break;
        case Field::author: out += m.author.empty() ? m.author_id : m.author; break;
        case Field::author_id: out += m.author_id; break;
        case Field::network: out += m.network; break;
        case Field::source: out += m.source; break;
        case Field::channel: out += m.channel; break;
        case Field::link: out += m.links.empty() ? std::string() : m.links.front(); break;
        case Field::tags: out += join(m.tags, "#"); break;
        case Field::mentions: out += join(m.mentions, "@"); break;
        case Field::id: out += m.id; break;
        case Field::native_id: out += m.native_id; break;
        case Field::kind: out += kind_name(m.kind); break;
        case Field::level: out += level_name(m.level); break;
        case Field::language: out += m.language; break;
        case Field::thread_id: out += m.thread_id; break;
        case Field::time: out += iso_time(m.created_at_ms ? m.created_at_ms : m.received_at_ms); break;
        case Field::meta: out += m.meta(p.text); break;
        }
    }
    return out;
}

} // namespace relais
