// Computes the UID digests (uid.hpp) of indexed mbox messages, reading the
// file once, in order; the digests are computed two messages at a time
// (Sha256Lanes) in batches of about kUidBatchBytes.
#pragma once

#include "mailbox/message_index.hpp"
#include "mailbox/uid.hpp"

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

}  // namespace pop3d::mailbox
