// The maildrop snapshot taken at login, and the cheap checks that it still
// describes the file before anything is sent or removed (docs/DESIGN.md).
#pragma once

#include "mailbox/maildrop.hpp"
#include "mailbox/mbox_index.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pop3d::mailbox {

struct Snapshot {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    std::uint64_t end = 0;  // file size when it was indexed
    const MessageIndex* messages = nullptr;
};

// Where to read to see whether a From_ line starts at `offset`: from the LF
// before it (or from 0), kFromProbe bytes.
inline std::uint64_t from_probe_start(std::uint64_t offset) { return offset == 0 ? 0 : offset - 1; }
inline constexpr std::size_t kFromProbe = 6;

// True when bytes read from from_probe_start(offset) show a From_ line at offset.
bool from_line_in(const char* bytes, std::size_t len, std::uint64_t offset);

// The path still names the indexed file, it is not shorter, and every From_
// line is where the index has it.
Result validate_snapshot(int fd, const Snapshot& snapshot);

}  // namespace pop3d::mailbox
