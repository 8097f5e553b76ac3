// The shared-secret signature of a body: X-Relais-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
#pragma once

#include <string>
#include <string_view>

namespace relais::webhook {

// "sha256=" followed by the lowercase hex HMAC-SHA256 of `body` keyed with `secret`.
std::string sign_body(std::string_view secret, std::string_view body);

// True when `header` is the signature of `body` (the hex in any case). Compares in constant time.
bool signature_matches(std::string_view header, std::string_view secret, std::string_view body);

// Constant-time equality of two strings (the length is not hidden).
bool same_bytes(std::string_view a, std::string_view b);

} // namespace relais::webhook
