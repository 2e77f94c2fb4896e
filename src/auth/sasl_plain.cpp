#include "auth/sasl_plain.hpp"

namespace pop3d::auth {

namespace {

int value_of(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

constexpr std::size_t kMaxField = 255;

}  // namespace

std::optional<std::string> decode_base64_strict(std::string_view text) {
    if (text == "=") return std::string();
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        int v[4];
        for (int k = 0; k < 4; ++k) {
            const std::size_t at = i + static_cast<std::size_t>(k);
            v[k] = at >= text.size() - pad ? 0 : value_of(text[at]);
            if (v[k] < 0) return std::nullopt;  // '=' in the middle lands here too
        }
        const unsigned n = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
        out.push_back(static_cast<char>(n >> 16));
        out.push_back(static_cast<char>((n >> 8) & 0xff));
        out.push_back(static_cast<char>(n & 0xff));
    }
    // The bits hidden under the padding must be zero (canonical encoding).
    if (pad > 0) {
        const int last = value_of(text[text.size() - 1 - pad]);
        if ((pad == 1 && (last & 0x03)) || (pad == 2 && (last & 0x0f))) return std::nullopt;
    }
    out.resize(out.size() - pad);
    return out;
}

std::string encode_base64(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
        out.push_back(alphabet[(n >> 18) & 63]);
        out.push_back(alphabet[(n >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=');
        out.push_back(i + 2 < bytes.size() ? alphabet[n & 63] : '=');
    }
    return out;
}

std::optional<PlainCredentials> parse_plain(std::string_view message) {
    const std::size_t first = message.find('\0');
    if (first == std::string_view::npos) return std::nullopt;
    const std::size_t second = message.find('\0', first + 1);
    if (second == std::string_view::npos || message.find('\0', second + 1) != std::string_view::npos)
        return std::nullopt;
    PlainCredentials c;
    c.authzid.assign(message.substr(0, first));
    c.authcid.assign(message.substr(first + 1, second - first - 1));
    c.password.assign(message.substr(second + 1));
    if (c.authcid.empty() || c.password.empty()) return std::nullopt;
    if (c.authzid.size() > kMaxField || c.authcid.size() > kMaxField || c.password.size() > kMaxField)
        return std::nullopt;
    return c;
}

}  // namespace pop3d::auth
