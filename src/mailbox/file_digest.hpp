// The content digest (content_digest.hpp) of a file's first bytes: read
// once, in order, on two cores when the file is large.
#pragma once

#include "mailbox/content_digest.hpp"

#include <cstdint>

namespace pop3d::mailbox {

// Above this many bytes the second half goes to the process's helper
// thread (helper_thread.hpp), when it is free.
inline constexpr std::uint64_t kDigestHelperBytes = 8 * 1024 * 1024;

// Feeds [offset, offset + len) of fd to digest, in order. False on a read
// error or a file shorter than that.
bool digest_range(int fd, std::uint64_t offset, std::uint64_t len, ContentDigest& digest);

// Feeds [0, end) of fd to digest, which has been fed nothing yet. False on
// a read error or a file shorter than end.
bool digest_file(int fd, std::uint64_t end, ContentDigest& digest,
                 std::uint64_t helper_bytes = kDigestHelperBytes);

}  // namespace pop3d::mailbox
