#include "mailbox/file_digest.hpp"

#include "mailbox/file_io.hpp"
#include "mailbox/helper_thread.hpp"

namespace pop3d::mailbox {

bool digest_range(int fd, std::uint64_t offset, std::uint64_t len, ContentDigest& digest) {
    return read_range(fd, offset, len, [&](const char* p, std::size_t n) {
        digest.update(p, n);
        return true;
    });
}

// Each thread takes one half; the halves are joined with
// ContentDigest::append (the first ends on a read-chunk boundary, so on a
// block boundary too).
static_assert(kReadChunk % 16 == 0, "the first half must end on a digest block boundary");

bool digest_file(int fd, std::uint64_t end, ContentDigest& digest, std::uint64_t helper_bytes) {
    if (end <= helper_bytes) return digest_range(fd, 0, end, digest);
    const HelperSlot slot;
    if (!slot.taken()) return digest_range(fd, 0, end, digest);
    const std::uint64_t split = end / 2 / kReadChunk * kReadChunk;
    ContentDigest second = digest;  // the same key, nothing fed
    bool first_ok = false, second_ok = false, crashed = false;
    {
        auto helper = start_helper([&]() noexcept {
            try {
                second_ok = digest_range(fd, split, end - split, second);
            } catch (...) {  // no exception may leave a thread
                crashed = true;
            }
        });
        if (!helper) return digest_range(fd, 0, end, digest);
        first_ok = digest_range(fd, 0, split, digest);
    }  // joined
    if (crashed) {  // out of memory there: do its half here
        second.reset();
        second_ok = digest_range(fd, split, end - split, second);
    }
    if (!first_ok || !second_ok) return false;
    digest.append(second);
    return true;
}

}  // namespace pop3d::mailbox
