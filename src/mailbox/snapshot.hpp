// The maildrop snapshot taken at login, and the checks that it still
// describes the file before anything is sent or removed (docs/DESIGN.md):
// cheap ones (the inode, the size, the From_ lines) and, before an
// expunge, the proof that every byte indexed is still what it was.
#pragma once

#include "mailbox/content_digest.hpp"
#include "mailbox/maildrop.hpp"
#include "mailbox/mbox_grammar.hpp"
#include "mailbox/mbox_index.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pop3d::mailbox {

struct Snapshot {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    std::uint64_t end = 0;  // where the indexed messages end (the file's size at login, or less)
    const MessageIndex* messages = nullptr;
    const ContentDigest::Key* key = nullptr;  // the digest of [0, end) taken at login, with this key
    ContentDigest::Value digest{};
};

// Where to read to see whether a From_ line starts at `offset`: from the LF
// before it (or from 0), kFromProbe bytes.
inline std::uint64_t from_probe_start(std::uint64_t offset) { return offset == 0 ? 0 : offset - 1; }
inline constexpr std::size_t kFromProbe = 1 + mbox::kFromLine.size();

// True when bytes read from from_probe_start(offset) show a From_ line at offset.
bool from_line_in(const char* bytes, std::size_t len, std::uint64_t offset);

// The path still names the indexed file, and it is not shorter.
Result validate_snapshot_file(int fd, const Snapshot& snapshot);

// validate_snapshot_file, and every From_ line is where the index has it.
Result validate_snapshot(int fd, const Snapshot& snapshot);

// validate_snapshot_file, then the content: the bytes [0, end) read again
// give the digest taken at login, so every message indexed (From_ line,
// headers, body, the bytes between) is still where and what it was, and the
// file can only have grown at its end. Reads the whole snapshot.
// `progress` is called after each read (a long check keeps its locks fresh).
// Without a key (no digest was taken) the From_ lines are checked instead.
Result validate_snapshot_content(int fd, const Snapshot& snapshot, const std::function<void()>& progress = {});

// Whether `digest`, fed [0, end) of the file by the caller (at snapshot.key),
// is the one taken at login.
Result compare_snapshot_digest(const Snapshot& snapshot, const ContentDigest& digest);

}  // namespace pop3d::mailbox
