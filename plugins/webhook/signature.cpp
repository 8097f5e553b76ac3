#include "signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace relais::webhook {

std::string sign_body(std::string_view secret, std::string_view body) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(body.data()), body.size(), mac, &len);
    static const char hex[] = "0123456789abcdef";
    std::string out = "sha256=";
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 0xF];
    }
    return out;
}

bool same_bytes(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool signature_matches(std::string_view header, std::string_view secret, std::string_view body) {
    std::string given(header);
    size_t b = given.find_first_not_of(" \t"), e = given.find_last_not_of(" \t");
    if (b == std::string::npos) return false;
    given = given.substr(b, e - b + 1);
    for (char &c : given) // hex digits and the prefix in any case
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return same_bytes(given, sign_body(secret, body));
}

} // namespace relais::webhook
