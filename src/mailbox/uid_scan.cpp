#include "mailbox/uid_scan.hpp"

#include "mailbox/file_io.hpp"
#include "mailbox/helper_thread.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
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

namespace {

// The old server's id, where it gave one, wins over X-UIDL and the digest
// (Dovecot and popa3d never read X-UIDL).
void take_peer_id(compat::PeerIds& peer, MessageEntry& m, std::uint32_t index, UidOverrides& overrides) {
    if (auto id = peer.finish(); id && valid_uid(*id)) {
        overrides[index] = std::move(*id);
        m.flags |= MessageEntry::kHasOverride | MessageEntry::kPeerId;
    }
    peer.begin();
}

// compute_uid_digests(), and with a peer (uidl_compat) its ids from the same bytes.
bool scan(int fd, std::span<MessageEntry> messages, std::uint32_t first, std::uint64_t end, UidOverrides& overrides,
          compat::PeerIds* peer) {
    if (messages.empty()) return true;
    Batch batch(messages);
    UidHasher hasher(batch.lanes());
    std::size_t i = 0;
    std::string override_uid;
    bool bad = false;
    hasher.begin();
    if (peer) peer->begin();
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
            if (peer) {  // first: a body the old server's id covers is not hashed
                peer->feed(p, static_cast<std::size_t>(take));
                if (peer->has_id()) hasher.skip_body();
            }
            hasher.feed(p, static_cast<std::size_t>(take));
            p += take;
            pos += take;
            if (pos == m.content_end) {
                std::size_t job = 0;
                if (!hasher.finish_queued(messages[i], override_uid, job)) bad = true;
                if (!override_uid.empty()) overrides[first + static_cast<std::uint32_t>(i)] = override_uid;
                if (peer) take_peer_id(*peer, messages[i], first + static_cast<std::uint32_t>(i), overrides);
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

}  // namespace

bool compute_uid_digests(int fd, std::span<MessageEntry> messages, std::uint32_t first, std::uint64_t end,
                         UidOverrides& overrides) {
    return scan(fd, messages, first, end, overrides, nullptr);
}

bool compute_uid_digests_and_peer_ids(int fd, std::span<MessageEntry> messages, std::uint64_t end,
                                      UidOverrides& overrides, compat::PeerIds& peer) {
    return scan(fd, messages, 0, end, overrides, &peer);
}

namespace {

// The helper's share: messages [split, n) as compute_uid_digests() gives
// them. A failure of its own (no memory) is told apart from a changed
// mailbox, so that the caller can redo the work instead.
struct HelperShare {
    UidOverrides overrides;
    bool ok = false;
    bool crashed = false;
};

void run_helper(int fd, std::span<MessageEntry> messages, std::uint32_t first, std::uint64_t end,
                HelperShare& share) noexcept {
    try {
        share.ok = compute_uid_digests(fd, messages, first, end, share.overrides);
    } catch (...) {  // no exception may leave a thread
        share.crashed = true;
    }
}

}  // namespace

bool compute_all_uid_digests(int fd, std::span<MessageEntry> messages, std::uint64_t end, UidOverrides& overrides,
                             std::uint64_t helper_bytes) {
    if (messages.size() < 2 || end - messages.front().from_offset <= helper_bytes)
        return compute_uid_digests(fd, messages, 0, end, overrides);
    const HelperSlot slot;
    if (!slot.taken()) return compute_uid_digests(fd, messages, 0, end, overrides);
    // The first message that starts in the second half of the bytes.
    const std::uint64_t middle = messages.front().from_offset + (end - messages.front().from_offset) / 2;
    const auto it = std::partition_point(messages.begin() + 1, messages.end() - 1,
                                         [&](const MessageEntry& m) { return m.from_offset < middle; });
    const auto split = static_cast<std::uint32_t>(it - messages.begin());
    HelperShare share;
    bool ok = true;
    {
        std::optional<std::jthread> helper =
            start_helper([=, &share] { run_helper(fd, messages.subspan(split), split, end, share); });
        if (!helper) return compute_uid_digests(fd, messages, 0, end, overrides);
        ok = compute_uid_digests(fd, messages.first(split), 0, messages[split].from_offset, overrides);
    }  // joined
    if (share.crashed) {  // out of memory there: try again here
        share = {};
        share.ok = compute_uid_digests(fd, messages.subspan(split), split, end, share.overrides);
    }
    overrides.merge(share.overrides);
    return ok && share.ok;
}

}  // namespace pop3d::mailbox
