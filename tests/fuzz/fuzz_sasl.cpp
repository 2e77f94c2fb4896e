// libFuzzer target: the strict base64 decoder and the PLAIN message parser.
// Strict base64 is a bijection: whatever decodes re-encodes to the same text.
#include "auth/sasl_plain.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace pop3d;


extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto decoded = auth::decode_base64_strict(text)) {
        FUZZ_REQUIRE(text == "=" ? decoded->empty() : auth::encode_base64(*decoded) == text);
        if (const auto creds = auth::parse_plain(*decoded)) {
            FUZZ_REQUIRE(!creds->authcid.empty() && !creds->password.empty());
            FUZZ_REQUIRE(creds->authzid.size() <= 255 && creds->authcid.size() <= 255 && creds->password.size() <= 255);
            FUZZ_REQUIRE(creds->authzid + '\0' + creds->authcid + '\0' + creds->password == *decoded);
        }
    }
    // Encoding anything decodes back to it.
    const std::string encoded = auth::encode_base64(text);
    const auto back = auth::decode_base64_strict(encoded.empty() ? "=" : encoded);
    FUZZ_REQUIRE(back && *back == text);
    if (const auto creds = auth::parse_plain(text)) {
        FUZZ_REQUIRE(creds->authzid + '\0' + creds->authcid + '\0' + creds->password == text);
    }
    return 0;
}
