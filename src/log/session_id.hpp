// Session ids: the short name every log line of one connection carries,
// from accept (or inetd's start) to the disconnect line.
#pragma once

#include <cstdint>
#include <string>

namespace pop3d::log {

// 8 characters of base32 ("0-9a-z" without i, l, o, u). Distinct among the
// sessions alive on a host at one time, whichever process or thread serves
// them: see session_id_for.
std::string new_session_id();

// The id of the `count`-th session started by process `pid`: the 40 bits
// pid (22 bits: Linux pids stay below 2^22) and count (its low 18 bits)
// through a permutation keyed with `key` (the boot id), so that distinct
// (pid, count) pairs give distinct ids that do not look alike. An id comes
// back only when a pid is reused with the same count, or after 2^18
// sessions of one process; after a reboot the ids are others.
std::string session_id_for(std::uint32_t pid, std::uint32_t count, std::uint64_t key);

// A hash of the boot id (/proc/sys/kernel/random/boot_id): the same for
// every process of the host until the next boot.
std::uint64_t boot_key();

}  // namespace pop3d::log
