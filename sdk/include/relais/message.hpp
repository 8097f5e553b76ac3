// relais/message.hpp — the message model as C++ values, and its conversion to and from the C ABI view.
// Header-only; part of the SDK. The host uses the same types.
#pragma once

#include <relais/plugin.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relais {

enum class Kind : int32_t {
    post = RELAIS_KIND_POST,
    reply = RELAIS_KIND_REPLY,
    edit = RELAIS_KIND_EDIT,
    remove = RELAIS_KIND_DELETE,
    reaction = RELAIS_KIND_REACTION,
};

enum class Level : int32_t {
    unset = RELAIS_LEVEL_UNSET,
    public_ = RELAIS_LEVEL_PUBLIC,
    internal = RELAIS_LEVEL_INTERNAL,
    confidential = RELAIS_LEVEL_CONFIDENTIAL,
    secret = RELAIS_LEVEL_SECRET,
};

inline std::string_view kind_name(Kind k) {
    switch (k) {
    case Kind::post: return "post";
    case Kind::reply: return "reply";
    case Kind::edit: return "edit";
    case Kind::remove: return "delete";
    case Kind::reaction: return "reaction";
    }
    return "post";
}

inline std::optional<Kind> parse_kind(std::string_view s) {
    if (s == "post") return Kind::post;
    if (s == "reply") return Kind::reply;
    if (s == "edit") return Kind::edit;
    if (s == "delete") return Kind::remove;
    if (s == "reaction") return Kind::reaction;
    return std::nullopt;
}

inline std::string_view level_name(Level l) {
    switch (l) {
    case Level::public_: return "public";
    case Level::internal: return "internal";
    case Level::confidential: return "confidential";
    case Level::secret: return "secret";
    case Level::unset: break;
    }
    return "unset";
}

inline std::optional<Level> parse_level(std::string_view s) {
    if (s == "public") return Level::public_;
    if (s == "internal") return Level::internal;
    if (s == "confidential") return Level::confidential;
    if (s == "secret") return Level::secret;
    return std::nullopt;
}

struct Attachment {
    std::string url;
    std::string mime_type;
    std::string name;
    uint64_t size_bytes = 0;
};

struct Message {
    std::string id;
    std::string source;
    std::string network;
    std::string channel;
    std::string native_id;
    Kind kind = Kind::post;
    std::string author;
    std::string author_id;
    std::string text;
    std::vector<std::string> tags;
    std::vector<std::string> mentions;
    std::vector<std::string> links;
    std::vector<Attachment> attachments;
    std::string thread_id;
    std::string reply_to;
    Level level = Level::unset;
    std::string language;
    int64_t created_at_ms = 0;
    int64_t received_at_ms = 0;
    std::vector<std::string> trace;
    std::vector<std::pair<std::string, std::string>> metadata;

    // The value of a metadata key, or empty.
    std::string_view meta(std::string_view key) const {
        for (const auto &[k, v] : metadata)
            if (k == key) return v;
        return {};
    }
};

inline relais_str to_c(std::string_view s) { return relais_str{s.data(), s.size()}; }
inline std::string to_string(relais_str s) { return s.len ? std::string(s.data, s.len) : std::string(); }
inline std::string_view to_view(relais_str s) { return s.len ? std::string_view(s.data, s.len) : std::string_view(); }

namespace detail {
inline std::vector<std::string> strings(const relais_str *items, size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(to_string(items[i]));
    return out;
}
} // namespace detail

// Copies a borrowed C view into owned values. Fields beyond the writer's struct_size stay at their defaults.
inline Message from_c(const relais_message &c) {
    Message m;
    // Every field of ABI 1.0 is there in any major-1 message; later fields will be read only when
    // c.struct_size covers them.
    if (c.struct_size < offsetof(relais_message, metadata_len) + sizeof(c.metadata_len)) return m;
    m.id = to_string(c.id);
    m.source = to_string(c.source);
    m.network = to_string(c.network);
    m.channel = to_string(c.channel);
    m.native_id = to_string(c.native_id);
    m.kind = static_cast<Kind>(c.kind);
    m.author = to_string(c.author);
    m.author_id = to_string(c.author_id);
    m.text = to_string(c.text);
    m.tags = detail::strings(c.tags, c.tags_len);
    m.mentions = detail::strings(c.mentions, c.mentions_len);
    m.links = detail::strings(c.links, c.links_len);
    for (size_t i = 0; i < c.attachments_len; ++i) {
        const relais_attachment *a = c.attachments[i];
        if (!a) continue;
        m.attachments.push_back({to_string(a->url), to_string(a->mime_type), to_string(a->name), a->size_bytes});
    }
    m.thread_id = to_string(c.thread_id);
    m.reply_to = to_string(c.reply_to);
    m.level = static_cast<Level>(c.level);
    m.language = to_string(c.language);
    m.created_at_ms = c.created_at_ms;
    m.received_at_ms = c.received_at_ms;
    m.trace = detail::strings(c.trace, c.trace_len);
    for (size_t i = 0; i < c.metadata_len; ++i)
        m.metadata.emplace_back(to_string(c.metadata[i].key), to_string(c.metadata[i].value));
    return m;
}

// A C view of a Message. It borrows the Message: keep the Message alive and unchanged while the view is used.
class MessageView {
public:
    explicit MessageView(const Message &m) {
        tags_ = views(m.tags);
        mentions_ = views(m.mentions);
        links_ = views(m.links);
        trace_ = views(m.trace);
        attachments_.reserve(m.attachments.size());
        for (const auto &a : m.attachments)
            attachments_.push_back({sizeof(relais_attachment), to_c(a.url), to_c(a.mime_type), to_c(a.name),
                                    a.size_bytes});
        for (const auto &a : attachments_) attachment_ptrs_.push_back(&a);
        for (const auto &[k, v] : m.metadata) metadata_.push_back({to_c(k), to_c(v)});

        c_ = relais_message{};
        c_.struct_size = sizeof(relais_message);
        c_.id = to_c(m.id);
        c_.source = to_c(m.source);
        c_.network = to_c(m.network);
        c_.channel = to_c(m.channel);
        c_.native_id = to_c(m.native_id);
        c_.kind = static_cast<int32_t>(m.kind);
        c_.author = to_c(m.author);
        c_.author_id = to_c(m.author_id);
        c_.text = to_c(m.text);
        c_.tags = tags_.data();
        c_.tags_len = tags_.size();
        c_.mentions = mentions_.data();
        c_.mentions_len = mentions_.size();
        c_.links = links_.data();
        c_.links_len = links_.size();
        c_.attachments = attachment_ptrs_.data();
        c_.attachments_len = attachment_ptrs_.size();
        c_.thread_id = to_c(m.thread_id);
        c_.reply_to = to_c(m.reply_to);
        c_.level = static_cast<int32_t>(m.level);
        c_.language = to_c(m.language);
        c_.created_at_ms = m.created_at_ms;
        c_.received_at_ms = m.received_at_ms;
        c_.trace = trace_.data();
        c_.trace_len = trace_.size();
        c_.metadata = metadata_.data();
        c_.metadata_len = metadata_.size();
    }
    MessageView(const MessageView &) = delete;
    MessageView &operator=(const MessageView &) = delete;

    const relais_message *get() const { return &c_; }

private:
    static std::vector<relais_str> views(const std::vector<std::string> &v) {
        std::vector<relais_str> out;
        out.reserve(v.size());
        for (const auto &s : v) out.push_back(to_c(s));
        return out;
    }
    relais_message c_{};
    std::vector<relais_str> tags_, mentions_, links_, trace_;
    std::vector<relais_attachment> attachments_;
    std::vector<const relais_attachment *> attachment_ptrs_;
    std::vector<relais_pair> metadata_;
};

} // namespace relais
