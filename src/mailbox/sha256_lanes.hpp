// SHA-256 of many independent messages, computed together: the bytes of
// each message are queued (copied, padded), then run() hashes two messages
// at a time through the interleaved kernel (sha256_blocks.hpp), which hides
// the latency of the SHA instructions. The digests are the plain SHA-256 of
// each message's bytes, exactly as Sha256 gives them.
//
//     lanes.begin(); lanes.append(...)...; job = lanes.end();   // per message
//     lanes.run(); lanes.digest(job)...; lanes.clear();
#pragma once

#include "mailbox/sha256.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace pop3d::mailbox {

class Sha256Lanes {
public:
    // A message whose queued bytes reach this is hashed as it comes, one
    // stream (its end still goes through run()): the queue stays small.
    static constexpr std::size_t kMaxQueuedPerMessage = 256 * 1024;

    void begin();
    void append(const void* data, std::size_t len) {
        if (len == 0) return;  // (memcpy into no buffer yet is undefined, even of 0 bytes)
        if (len_ + len > cap_) grow(len);
        std::memcpy(buf_.get() + len_, data, len);
        len_ += len;
        if (len_ - start_ >= kMaxQueuedPerMessage) spill();
    }
    // Pads the message begun last; returns its job number (0, 1, ... since clear()).
    std::size_t end();
    // Hashes every queued message; then digest(job) holds its SHA-256.
    void run();
    Sha256::Digest digest(std::size_t job) const;
    std::size_t jobs() const { return jobs_.size(); }
    std::size_t queued_bytes() const { return len_; }
    // Forgets the jobs (keeps the buffer for the next ones).
    void clear();
    // Tests: one stream per message (the path of CPUs without SHA extensions
    // and of the last odd message), or the portable code.
    void force_single_stream() { single_ = true; }
    void force_portable() { single_ = portable_ = true; }

private:
    struct Job {
        std::array<std::uint32_t, 8> h;
        std::size_t offset;  // of its queued blocks in buf_
        std::size_t blocks;  // queued, still to hash
        std::uint64_t spilled = 0;  // bytes hashed before they were queued (spill())
    };
    void grow(std::size_t more);
    void spill();

    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t len_ = 0, cap_ = 0;
    std::size_t start_ = 0;  // of the message begun last
    std::vector<Job> jobs_;
    bool single_ = false, portable_ = false;
};

}  // namespace pop3d::mailbox
