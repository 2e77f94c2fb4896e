#include "mailbox/uid_scan.hpp"

#include "mailbox/file_io.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace pop3d::mailbox {

namespace {

// The messages whose bytes wait in the lanes, with their job numbers.
class Batch {
public:
    explicit Batch(std::span<MessageEntry> messages) : messages_(messages) {}
    Sha256Lanes& lanes() { return lanes_; }
    void queued(std::size_t k, std::size_t job) {
        waiting_.push_back({k, job});
        if (lanes_.queued_bytes() >= kUidBatchBytes) run();
    }
    void run() {
        lanes_.run();
        for (const auto& [k, job] : waiting_) {
            const auto d = lanes_.digest(job);
            std::copy_n(d.begin(), messages_[k].digest.size(), messages_[k].digest.begin());
        }
        waiting_.clear();
        lanes_.clear();
    }

private:
    struct Waiting {
        std::size_t k, job;
    };
    std::span<MessageEntry> messages_;
    Sha256Lanes lanes_;
    std::vector<Waiting> waiting_;
};

}  // namespace

bool compute_uid_digests(int fd, std::span<MessageEntry> messages, std::uint32_t first, std::uint64_t end,
                         UidOverrides& overrides) {
    if (messages.empty()) return true;
    Batch batch(messages);
    UidHasher hasher(batch.lanes());
    std::size_t i = 0;
    std::string override_uid;
    bool bad = false;
    hasher.begin();
    const std::uint64_t start = messages.front().from_offset;
    std::uint64_t pos = start;
    const bool read_ok = read_range(fd, start, end - start, [&](const char* p, std::size_t n) {
        const std::uint64_t chunk_end = pos + n;
        while (i < messages.size() && pos < chunk_end) {
            const MessageEntry& m = messages[i];
            if (pos < m.from_offset) {  // separator bytes
                const std::uint64_t skip = std::min(m.from_offset, chunk_end) - pos;
                p += skip;
                pos += skip;
                continue;
            }
            const std::uint64_t take = std::min(m.content_end, chunk_end) - pos;
            hasher.feed(p, static_cast<std::size_t>(take));
            p += take;
            pos += take;
            if (pos == m.content_end) {
                std::size_t job = 0;
                if (!hasher.finish_queued(messages[i], override_uid, job)) bad = true;
                if (!override_uid.empty()) overrides[first + static_cast<std::uint32_t>(i)] = override_uid;
                batch.queued(i, job);
                if (++i < messages.size()) hasher.begin();
            }
        }
        pos = chunk_end;
        return !bad;
    });
    batch.run();
    return read_ok && !bad && i == messages.size();
}

}  // namespace pop3d::mailbox
