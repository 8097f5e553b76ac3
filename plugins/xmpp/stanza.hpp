// stanza.hpp — reading the message and presence stanzas a server sends into plain values, and building the
// ones the connector sends. No network here: tests and the fuzz test drive these directly.
#pragma once

#include <strophe.h>

#include <string>
#include <vector>

namespace relais::xmpp {

inline constexpr const char *ns_muc = "http://jabber.org/protocol/muc";
inline constexpr const char *ns_muc_user = "http://jabber.org/protocol/muc#user";
inline constexpr const char *ns_sid = "urn:xmpp:sid:0";           // XEP-0359 stanza-id, origin-id
inline constexpr const char *ns_delay = "urn:xmpp:delay";         // XEP-0203
inline constexpr const char *ns_reply = "urn:xmpp:reply:0";       // XEP-0461
inline constexpr const char *ns_correct = "urn:xmpp:message-correct:0"; // XEP-0308
inline constexpr const char *ns_stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr const char *ns_ping = "urn:xmpp:ping";

// The parts of a <message/> the connector uses.
struct MessageFields {
    std::string from, from_bare, from_resource;
    std::string type; // groupchat, chat, normal, error; "normal" when absent
    std::string id, origin_id;
    std::string stanza_id;     // XEP-0359 stanza-id set by `stanza_id_by` (the room, or our own server)
    std::string stanza_id_by;
    bool has_body = false;
    std::string body;
    bool has_subject = false;
    bool delayed = false;      // carries a XEP-0203 <delay/>
    std::string reply_id, reply_to; // XEP-0461
    std::string replace_id;    // XEP-0308
    std::string real_jid;      // muc#user <item jid=…/> when the room shows it
    std::string error;         // for type=error: the condition and its text
    std::string problem;       // why the stanza cannot be used, or empty
};

// The parts of a <presence/> the connector uses.
struct PresenceFields {
    std::string from, from_bare, from_resource;
    std::string type;          // empty (available), unavailable, error…
    std::vector<int> status_codes; // muc#user <status code=…/>
    std::string error_condition, error_text;
};

// `own_bare` is the bot's bare JID: a stanza-id set by our own server (direct chats) is accepted too.
MessageFields read_message(xmpp_stanza_t *message, const std::string &own_bare);
PresenceFields read_presence(xmpp_stanza_t *presence);

// The defined condition of an <error/> child ("conflict", "registration-required"…) and its <text/>.
void read_error(xmpp_stanza_t *stanza, std::string &condition, std::string &text);

// A new <message/> (the caller releases it): type groupchat or chat, id and origin-id `id`, the body, and a
// XEP-0461 reply or XEP-0308 correction when `reply_id` / `replace_id` are set.
struct Outgoing {
    std::string to, type, id, body;
    std::string reply_id, reply_to, replace_id;
};
xmpp_stanza_t *build_message(xmpp_ctx_t *ctx, const Outgoing &out);

// Presence that joins a room as `nick`, asking for no history (maxstanzas=0).
xmpp_stanza_t *build_join(xmpp_ctx_t *ctx, const std::string &room, const std::string &nick);

} // namespace relais::xmpp
