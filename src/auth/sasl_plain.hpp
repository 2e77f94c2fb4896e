// SASL PLAIN (RFC 4616) and the strict base64 of RFC 5034.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pop3d::auth {

// RFC 4648 base64 with padding, nothing else: no whitespace, no characters
// outside the alphabet, '=' only at the end. "=" alone is the empty string
// (RFC 5034's empty response). nullopt for anything else.
std::optional<std::string> decode_base64_strict(std::string_view text);
std::string encode_base64(std::string_view bytes);

struct PlainCredentials {
    std::string authzid;  // empty, or the identity to act as
    std::string authcid;
    std::string password;
};

// "authzid NUL authcid NUL passwd", each field at most 255 octets, authcid
// and passwd not empty, no NUL inside a field. nullopt when malformed.
std::optional<PlainCredentials> parse_plain(std::string_view message);

}  // namespace pop3d::auth
