// Per-destination templates: "{author} on {network}: {text} — {link}". Placeholders are checked when the
// configuration is loaded, so a typo is a config error, not an empty string at run time.
#pragma once

#include <relais/message.hpp>

#include <optional>
#include <string>
#include <vector>

namespace relais {

class Template {
public:
    // Fails with `error` naming the unknown placeholder and the known ones.
    static std::optional<Template> compile(const std::string &text, std::string &error);
    std::string render(const Message &m) const;
    const std::string &source() const { return source_; }

    static const std::vector<std::string> &fields();

private:
    enum class Field { literal, text, author, author_id, network, source, channel, link, tags, mentions, id, native_id,
                       kind, level, language, thread_id, time, meta };
    struct Part {
        Field field;
        std::string text; // the literal, or the metadata key for meta.KEY
    };
    std::string source_;
    std::vector<Part> parts_;
};

} // namespace relais
