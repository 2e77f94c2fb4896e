// PROXY v2 headers built by hand, for the header and reader tests.
#pragma once

#include <string>

namespace pop3d::testing {

inline const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: command (0 LOCAL, 1 PROXY), family/transport byte, body.
inline std::string v2(unsigned command, unsigned char family, const std::string& body) {
    std::string h = kSig;
    h += static_cast<char>(0x20 | command);
    h += static_cast<char>(family);
    h += static_cast<char>(body.size() >> 8);
    h += static_cast<char>(body.size() & 0xff);
    return h + body;
}

inline std::string ipv4_body(std::string src, std::string dst, unsigned sport, unsigned dport) {
    std::string b = src + dst;
    b += static_cast<char>(sport >> 8);
    b += static_cast<char>(sport & 0xff);
    b += static_cast<char>(dport >> 8);
    b += static_cast<char>(dport & 0xff);
    return b;
}

}  // namespace pop3d::testing
