// Computes the UID digests (uid.hpp) of indexed mbox messages, reading the
// file once, in order; the digests are computed two messages at a time
// (Sha256Lanes) in batches of about kUidBatchBytes.
#pragma once

#include "mailbox/message_index.hpp"
#include "mailbox/uid.hpp"
#include "mailbox/uid_compat.hpp"

#include <cstdint>
#include <span>

namespace pop3d::mailbox {

inline constexpr std::size_t kUidBatchBytes = 256 * 1024;

// Fills digest and flags of messages[k] (index first + k in the maildrop,
// the key of its X-UIDL value in overrides), reading [their first From_
// line, end): bytes between a message's end and the next From_ line are
// skipped. False on a read error or when a message does not start with a
// From_ line any more (the mailbox changed).
bool compute_uid_digests(int fd, std::span<MessageEntry> messages, std::uint32_t first, std::uint64_t end,
                         UidOverrides& overrides);

// compute_uid_digests() over all the messages, and the ids an old server
// gave them (uidl_compat): peer is fed the same bytes, and a message it
// gives an id gets it in overrides, flagged kHasOverride | kPeerId (the
// peer's id wins over X-UIDL). One pass in the calling thread: Dovecot's
// and UW's ids depend on the messages before.
bool compute_uid_digests_and_peer_ids(int fd, std::span<MessageEntry> messages, std::uint64_t end,
                                      UidOverrides& overrides, compat::PeerIds& peer);

// Above this many bytes, a helper thread takes the second half of the
// mailbox (by bytes), so that a large UIDL uses two cores: on a machine of
// two cores 80 MB took 0.045 s alone, 0.025 s so. Smaller mailboxes are not
// worth a thread: their ids cost under 5 ms.
inline constexpr std::uint64_t kUidHelperBytes = 8 * 1024 * 1024;

// compute_uid_digests() over all the messages of a maildrop, with the
// helper thread above helper_bytes. At most one helper runs in the process
// at a time (in the threaded daemon, many sessions at once use the cores
// already); without one free, or if no thread can be started, the calling
// thread does all the work. The helper blocks every signal, so a signal
// meant for the process never runs a handler in it, and it is joined before
// this returns: nothing outlives the call.
bool compute_all_uid_digests(int fd, std::span<MessageEntry> messages, std::uint64_t end, UidOverrides& overrides,
                             std::uint64_t helper_bytes = kUidHelperBytes);

}  // namespace pop3d::mailbox
