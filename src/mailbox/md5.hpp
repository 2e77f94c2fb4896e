// MD5 (RFC 1321), streaming. Only to reproduce popa3d's UIDLs (uid_compat),
// which are MD5 digests: never for anything that needs a secure hash.
#pragma once

#include "mailbox/block_buffer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace pop3d::mailbox {

class Md5 {
public:
    using Digest = std::array<std::uint8_t, 16>;
    Md5() { reset(); }
    void reset();
    void update(const void* data, std::size_t len);
    Digest finish();

private:
    void block(const std::uint8_t* p);
    std::array<std::uint32_t, 4> h_{};
    BlockBuffer buffer_;
};

}  // namespace pop3d::mailbox
