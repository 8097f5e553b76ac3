// stanza_fixture.hpp — a libstrophe context for tests, and stanzas parsed from XML text.
#pragma once

#include <strophe.h>

#include <memory>
#include <string>

namespace relais::xmpp::testing {

class Strophe {
public:
    Strophe() {
        xmpp_initialize();
        ctx_ = xmpp_ctx_new(nullptr, nullptr);
    }
    ~Strophe() { xmpp_ctx_free(ctx_); }
    Strophe(const Strophe &) = delete;
    Strophe &operator=(const Strophe &) = delete;

    xmpp_ctx_t *ctx() const { return ctx_; }

    // The stanza the XML describes, or null when libstrophe cannot parse it. Released with the returned holder.
    std::shared_ptr<xmpp_stanza_t> parse(const std::string &xml) const {
        xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx_, xml.c_str());
        return std::shared_ptr<xmpp_stanza_t>(s, [](xmpp_stanza_t *p) {
            if (p) xmpp_stanza_release(p);
        });
    }

    std::string text(xmpp_stanza_t *s) const {
        char *buf = nullptr;
        size_t len = 0;
        if (xmpp_stanza_to_text(s, &buf, &len) != XMPP_EOK) return {};
        std::string out(buf, len);
        xmpp_free(ctx_, buf);
        return out;
    }

private:
    xmpp_ctx_t *ctx_;
};

} // namespace relais::xmpp::testing
