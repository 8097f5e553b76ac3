// stanza.cpp — reading and building stanzas with libstrophe's stanza API.
#include "stanza.hpp"

#include <cstdlib>
#include <cstring>

namespace relais::xmpp {

namespace {

std::string attr(xmpp_stanza_t *s, const char *name) {
    const char *v = s ? xmpp_stanza_get_attribute(s, name) : nullptr;
    return v ? v : "";
}

std::string name_of(xmpp_stanza_t *s) {
    const char *n = xmpp_stanza_get_name(s);
    return n ? n : "";
}

std::string ns_of(xmpp_stanza_t *s) {
    const char *n = xmpp_stanza_get_ns(s);
    return n ? n : "";
}

// The text of an element, "" when it has none. libstrophe allocates it with the stanza's context.
std::string text_of(xmpp_stanza_t *s) {
    if (!s) return {};
    char *t = xmpp_stanza_get_text(s);
    if (!t) return {};
    std::string out(t);
    xmpp_free(xmpp_stanza_get_context(s), t);
    return out;
}

void split_jid(const std::string &jid, std::string &bare, std::string &resource) {
    auto slash = jid.find('/');
    bare = jid.substr(0, slash);
    resource = slash == std::string::npos ? "" : jid.substr(slash + 1);
}

xmpp_stanza_t *child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns) {
    xmpp_stanza_t *c = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(c, name);
    if (ns) xmpp_stanza_set_ns(c, ns);
    xmpp_stanza_add_child_ex(parent, c, 0); // the parent owns it
    return c;
}

} // namespace

void read_error(xmpp_stanza_t *stanza, std::string &condition, std::string &text) {
    xmpp_stanza_t *error = xmpp_stanza_get_child_by_name(stanza, "error");
    if (!error) return;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(error); c; c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_text(c) || ns_of(c) != ns_stanzas) continue;
        if (name_of(c) == "text") text = text_of(c);
        else if (condition.empty()) condition = name_of(c);
    }
    if (condition.empty()) condition = "undefined-condition";
}

MessageFields read_message(xmpp_stanza_t *m, const std::string &own_bare) {
    MessageFields f;
    f.from = attr(m, "from");
    split_jid(f.from, f.from_bare, f.from_resource);
    f.type = attr(m, "type");
    if (f.type.empty()) f.type = "normal";
    f.id = attr(m, "id");
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(m); c; c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_text(c)) continue;
        std::string name = name_of(c), ns = ns_of(c);
        if (name == "body" && !f.has_body) {
            f.has_body = true;
            f.body = text_of(c);
        } else if (name == "subject") {
            f.has_subject = true;
        } else if (name == "delay" && ns == ns_delay) {
            f.delayed = true;
        } else if (name == "origin-id" && ns == ns_sid) {
            f.origin_id = attr(c, "id");
        } else if (name == "stanza-id" && ns == ns_sid) {
            // Only the room (groupchat) or our own server (direct) may set it; anyone else's is a forgery.
            std::string by = attr(c, "by");
            if (f.stanza_id.empty() && !by.empty() && (by == f.from_bare || by == own_bare)) {
                f.stanza_id = attr(c, "id");
                f.stanza_id_by = by;
            }
        } else if (name == "reply" && ns == ns_reply) {
            f.reply_id = attr(c, "id");
            f.reply_to = attr(c, "to");
            if (f.reply_id.empty()) f.problem = "a XEP-0461 <reply/> without an id";
        } else if (name == "replace" && ns == ns_correct) {
            f.replace_id = attr(c, "id");
            if (f.replace_id.empty()) f.problem = "a XEP-0308 <replace/> without an id";
        } else if (name == "x" && ns == ns_muc_user) {
            xmpp_stanza_t *item = xmpp_stanza_get_child_by_name(c, "item");
            if (item) f.real_jid = attr(item, "jid");
        }
    }
    if (f.type == "error") {
        std::string condition, text;
        read_error(m, condition, text);
        f.error = condition + (text.empty() ? "" : " (" + text + ")");
    }
    if (f.problem.empty() && f.from.empty()) f.problem = "no sender (from)";
    if (f.problem.empty() && f.has_body && f.body.find('\0') != std::string::npos) f.problem = "a NUL in the body";
    return f;
}

PresenceFields read_presence(xmpp_stanza_t *p) {
    PresenceFields f;
    f.from = attr(p, "from");
    split_jid(f.from, f.from_bare, f.from_resource);
    f.type = attr(p, "type");
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(p); c; c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_text(c) || name_of(c) != "x" || ns_of(c) != ns_muc_user) continue;
        for (xmpp_stanza_t *s = xmpp_stanza_get_children(c); s; s = xmpp_stanza_get_next(s)) {
            if (xmpp_stanza_is_text(s) || name_of(s) != "status") continue;
            std::string code = attr(s, "code");
            char *end = nullptr;
            long n = std::strtol(code.c_str(), &end, 10);
            if (!code.empty() && end && *end == '\0' && n > 0 && n < 1000) f.status_codes.push_back(int(n));
        }
    }
    if (f.type == "error") read_error(p, f.error_condition, f.error_text);
    return f;
}

xmpp_stanza_t *build_message(xmpp_ctx_t *ctx, const Outgoing &out) {
    xmpp_stanza_t *m = xmpp_message_new(ctx, out.type.c_str(), out.to.c_str(), out.id.c_str());
    xmpp_message_set_body(m, out.body.c_str());
    xmpp_stanza_t *origin = child(ctx, m, "origin-id", ns_sid);
    xmpp_stanza_set_attribute(origin, "id", out.id.c_str());
    if (!out.reply_id.empty()) {
        xmpp_stanza_t *reply = child(ctx, m, "reply", ns_reply);
        xmpp_stanza_set_attribute(reply, "id", out.reply_id.c_str());
        if (!out.reply_to.empty()) xmpp_stanza_set_attribute(reply, "to", out.reply_to.c_str());
    }
    if (!out.replace_id.empty()) {
        xmpp_stanza_t *replace = child(ctx, m, "replace", ns_correct);
        xmpp_stanza_set_attribute(replace, "id", out.replace_id.c_str());
    }
    return m;
}

xmpp_stanza_t *build_join(xmpp_ctx_t *ctx, const std::string &room, const std::string &nick) {
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    std::string to = room + "/" + nick;
    xmpp_stanza_set_to(p, to.c_str());
    xmpp_stanza_t *x = child(ctx, p, "x", ns_muc);
    xmpp_stanza_t *history = child(ctx, x, "history", nullptr);
    xmpp_stanza_set_attribute(history, "maxstanzas", "0");
    return p;
}

} // namespace relais::xmpp
