// Chunked positional reads, the only way the mailbox code reads a file: no
// mmap (a mailbox truncated under us would raise SIGBUS in the whole process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace pop3d::mailbox {

inline constexpr std::size_t kReadChunk = 256 * 1024;

// Calls sink(data, n) for the bytes [offset, offset + len) in order. sink
// returns false to stop early (not an error). Returns false on a read error
// or when the file is shorter than expected (errno is 0 then).
bool read_range(int fd, std::uint64_t offset, std::uint64_t len,
                const std::function<bool(const char*, std::size_t)>& sink, std::size_t chunk = kReadChunk);

// pread/pwrite loops that retry on EINTR and short counts.
bool pread_full(int fd, void* buf, std::size_t len, std::uint64_t offset);
bool pwrite_full(int fd, const void* buf, std::size_t len, std::uint64_t offset);

}  // namespace pop3d::mailbox
