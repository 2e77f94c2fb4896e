// UIDs of a large mailbox hashed on a second core while the session's
// thread indexes it: the indexer hands each finished message over (add),
// a helper thread hashes them in batches of about kBatchBytes as they come,
// and at the first UIDL the session's thread takes the batches nobody has
// started, from the back, while the helper goes on from the front. The ids
// are the ones compute_uid_digests() gives (uid_scan.hpp), message by message.
#pragma once

#include "mailbox/helper_thread.hpp"
#include "mailbox/message_index.hpp"
#include "mailbox/uid.hpp"

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

namespace pop3d::mailbox {

class UidPrefetch {
    struct Key {
        explicit Key() = default;
    };

public:
    static constexpr std::uint64_t kBatchBytes = 1024 * 1024;

    explicit UidPrefetch(Key, int fd, std::uint32_t first) : fd_(fd), first_(first) {}
    UidPrefetch(const UidPrefetch&) = delete;
    UidPrefetch& operator=(const UidPrefetch&) = delete;
    // Cancels what is not started and joins the helper.
    ~UidPrefetch();

    // A helper for messages first, first+1, ... of the maildrop open on fd
    // (it must stay open while this lives); nullptr when the process's
    // helper slot is taken or no thread can be started.
    static std::unique_ptr<UidPrefetch> start(int fd, std::uint32_t first);

    // The next message, as the indexer finished it.
    void add(const MessageEntry& m);
    // No more messages (the index is complete).
    void finish_adding();
    // Every message added gets its digest and flags in messages (whose
    // element 0 is message `first`) and its X-UIDL value in overrides.
    // False when a message no longer starts with a From_ line or cannot be
    // read (the mailbox changed). Call once, after finish_adding().
    bool complete(std::span<MessageEntry> messages, UidOverrides& overrides);

private:
    // What hashing leaves of an entry (the rest of the copy is freed).
    struct Hashed {
        std::array<std::uint8_t, 16> digest;
        std::uint32_t flags;
    };
    struct Batch {
        std::uint32_t first = 0;  // maildrop index of entries[0]
        std::vector<MessageEntry> entries;  // copies, until hashed
        std::vector<Hashed> hashed;
        UidOverrides overrides;
        std::uint64_t bytes = 0;
        enum class State { open, queued, taken, done } state = State::open;  // under mu_
        bool ok = false;  // written by the thread that took it, read once done
    };
    void run() noexcept;
    void hash(Batch& b);
    Batch* take_front();  // under mu_
    Batch* take_back();   // under mu_

    const int fd_;
    const std::uint32_t first_;
    std::uint32_t next_index_ = 0;
    std::unique_ptr<HelperSlot> slot_;  // given back by the helper when it stops
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Batch> batches_;  // stable addresses: batches are only added at the back
    bool adding_done_ = false;
    bool cancel_ = false;
    std::optional<std::jthread> helper_;
};

}  // namespace pop3d::mailbox
