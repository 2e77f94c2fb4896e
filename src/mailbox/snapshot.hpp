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
    const std::vector<MessageEntry>* messages = nullptr;
};

// True when a From_ line starts at offset: "From " there, after LF or at 0.
bool from_line_at(int fd, std::uint64_t offset);

// The file is not shorter than the snapshot and message i's From_ line is in place.
Result check_message(int fd, const Snapshot& snapshot, std::size_t i);

// The path still names the indexed file, it is not shorter, and every From_
// line is where the index has it.
Result validate_snapshot(int fd, const Snapshot& snapshot);

}  // namespace pop3d::mailbox
