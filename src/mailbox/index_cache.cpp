#include "mailbox/index_cache.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/private_file.hpp"
#include "mailbox/sha256.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace pop3d::mailbox {

namespace {

constexpr char kMagic[8] = {'p', 'o', 'p', '3', 'd', 'i', 'x', '\n'};

// The file: this header, `count` MessageEntry as they are in memory (the
// file never leaves the host), then each override as a 4-byte message
// index, a length byte and the id. `check` is the digest, at `key`, of the
// whole file with `check` zeroed: a torn or damaged file is never used.
struct FileHeader {
    char magic[8];
    std::uint32_t format;
    std::uint32_t entry_size;
    std::uint64_t owner, dev, ino, rules, end, count, overrides_bytes;
    std::uint8_t key[16];
    std::uint8_t digest[16];
    std::uint64_t uids;
    std::uint8_t check[16];
};
static_assert(sizeof(FileHeader) == 128 && std::is_trivially_copyable_v<FileHeader>);

constexpr std::size_t kOverrideHead = 5;  // index and length

ContentDigest::Value check_of(FileHeader header, const void* entries, std::size_t entry_bytes,
                              const std::string& overrides) {
    std::memset(header.check, 0, sizeof header.check);
    ContentDigest::Key key;
    std::memcpy(key.data(), header.key, key.size());
    ContentDigest d(key);
    d.update(reinterpret_cast<const char*>(&header), sizeof header);
    if (entry_bytes > 0) d.update(static_cast<const char*>(entries), entry_bytes);
    if (!overrides.empty()) d.update(overrides.data(), overrides.size());
    return d.finish();
}

std::string encode_overrides(const UidOverrides& overrides, std::uint64_t below) {
    std::vector<std::pair<std::uint32_t, const std::string*>> sorted;
    sorted.reserve(overrides.size());
    for (const auto& [index, uid] : overrides)
        if (index < below) sorted.emplace_back(index, &uid);
    std::sort(sorted.begin(), sorted.end());
    std::string out;
    for (const auto& [index, uid] : sorted) {
        char head[kOverrideHead];
        std::memcpy(head, &index, 4);
        head[4] = static_cast<char>(uid->size());  // valid ids are at most 70 bytes
        out.append(head, sizeof head);
        out.append(*uid);
    }
    return out;
}

bool decode_overrides(const std::string& bytes, std::size_t count, UidOverrides& out) {
    std::size_t at = 0;
    std::uint64_t next = 0;  // indices strictly increase
    while (at < bytes.size()) {
        if (bytes.size() - at < kOverrideHead) return false;
        std::uint32_t index = 0;
        std::memcpy(&index, bytes.data() + at, 4);
        const auto len = static_cast<unsigned char>(bytes[at + 4]);
        at += kOverrideHead;
        if (index < next || index >= count || bytes.size() - at < len) return false;
        std::string uid = bytes.substr(at, len);
        if (!valid_uid(uid)) return false;
        out.emplace(index, std::move(uid));
        at += len;
        next = std::uint64_t{index} + 1;
    }
    return true;
}

// Offsets in order and inside the snapshot; overrides exactly where
// flagged, and only among the first `uids` messages.
bool entries_sane(const MessageIndex& messages, const UidOverrides& overrides, std::uint64_t end,
                  std::uint64_t uids) {
    std::uint64_t prev_end = 0;
    std::size_t flagged = 0;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const MessageEntry& m = messages[i];
        if (m.from_offset < prev_end || m.content_offset <= m.from_offset || m.content_end < m.content_offset ||
            m.content_end > end)
            return false;
        prev_end = m.content_end;
        if (m.flags & MessageEntry::kHasOverride) {
            if (i >= uids) return false;
            ++flagged;
        }
    }
    if (flagged != overrides.size()) return false;
    for (const auto& [index, uid] : overrides)
        if (!(messages[index].flags & MessageEntry::kHasOverride)) return false;
    return true;
}

}  // namespace

std::uint64_t index_rules(bool unquote, std::size_t max_messages, std::string_view uid_options) {
    const std::string text = "format " + std::to_string(IndexCache::kIndexFormat) + " entry " +
                             std::to_string(sizeof(MessageEntry)) + " unquote " + (unquote ? "yes" : "no") +
                             " max_messages " + std::to_string(max_messages) + " uids " + std::string(uid_options);
    Sha256 h;
    h.update(text.data(), text.size());
    const auto d = h.finish();
    std::uint64_t v = 0;
    std::memcpy(&v, d.data(), sizeof v);
    return v;
}

std::string IndexCache::file_name(const std::string& mailbox_path) {
    return maildrop_file_stem(mailbox_path) + ".index";
}

std::unique_ptr<IndexCache> IndexCache::open(const std::string& dir, const std::string& mailbox_path,
                                             Result& result) {
    const std::string path = dir + "/" + file_name(mailbox_path);
    std::string error;
    UniqueFd fd = open_private_file(path, error);
    if (!fd) {
        result = {Status::temp_fail, "saved index " + error};
        return nullptr;
    }
    result = Result::good();
    return std::make_unique<IndexCache>(Key{}, std::move(fd), path);
}

bool IndexCache::load(IndexStamp& stamp, MessageIndex& messages, UidOverrides& overrides,
                      std::size_t max_messages) const {
    FileHeader h{};
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) < sizeof h ||
        !pread_full(fd_.get(), &h, sizeof h, 0))
        return false;
    const ContentDigest::Key zero{};
    // Sizes are checked against the file's before any product is taken.
    const auto body = static_cast<std::uint64_t>(st.st_size) - sizeof h;
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.format != kIndexFormat ||
        h.entry_size != sizeof(MessageEntry) || h.owner != stamp.owner || h.dev != stamp.dev ||
        h.ino != stamp.ino || h.rules != stamp.rules || std::memcmp(h.key, zero.data(), zero.size()) == 0 ||
        h.count > max_messages || h.count > body / sizeof(MessageEntry) || h.uids > h.count ||
        h.overrides_bytes != body - h.count * sizeof(MessageEntry) ||
        h.overrides_bytes > h.uids * (kOverrideHead + kMaxUidLength))
        return false;
    const std::uint64_t entry_bytes = h.count * sizeof(MessageEntry);
    messages.resize_for_overwrite(static_cast<std::size_t>(h.count));
    std::string encoded(static_cast<std::size_t>(h.overrides_bytes), '\0');
    if (!pread_full(fd_.get(), messages.data(), static_cast<std::size_t>(entry_bytes), sizeof h) ||
        !pread_full(fd_.get(), encoded.data(), encoded.size(), sizeof h + entry_bytes))
        return false;
    const ContentDigest::Value check = check_of(h, messages.data(), static_cast<std::size_t>(entry_bytes), encoded);
    if (std::memcmp(check.data(), h.check, check.size()) != 0) return false;
    overrides.clear();
    if (!decode_overrides(encoded, messages.size(), overrides) ||
        !entries_sane(messages, overrides, h.end, h.uids)) {
        overrides.clear();
        return false;
    }
    stamp.end = h.end;
    std::memcpy(stamp.key.data(), h.key, stamp.key.size());
    std::memcpy(stamp.digest.data(), h.digest, stamp.digest.size());
    stamp.uids = h.uids;
    return true;
}

bool IndexCache::save(const IndexStamp& stamp, std::span<const MessageEntry> messages,
                      const UidOverrides& overrides) {
    const std::string encoded = encode_overrides(overrides, stamp.uids);
    FileHeader h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.format = kIndexFormat;
    h.entry_size = sizeof(MessageEntry);
    h.owner = stamp.owner;
    h.dev = stamp.dev;
    h.ino = stamp.ino;
    h.rules = stamp.rules;
    h.end = stamp.end;
    h.count = messages.size();
    h.overrides_bytes = encoded.size();
    std::memcpy(h.key, stamp.key.data(), sizeof h.key);
    std::memcpy(h.digest, stamp.digest.data(), sizeof h.digest);
    h.uids = stamp.uids;
    const std::size_t entry_bytes = messages.size_bytes();
    const ContentDigest::Value check = check_of(h, messages.data(), entry_bytes, encoded);
    std::memcpy(h.check, check.data(), sizeof h.check);
    const std::uint64_t total = sizeof h + entry_bytes + encoded.size();
    // Written in place: a session killed half way leaves a file whose check
    // fails, which the next session ignores.
    const bool ok = pwrite_full(fd_.get(), messages.data(), entry_bytes, sizeof h) &&
                    pwrite_full(fd_.get(), encoded.data(), encoded.size(), sizeof h + entry_bytes) &&
                    pwrite_full(fd_.get(), &h, sizeof h, 0) && ::ftruncate(fd_.get(), static_cast<off_t>(total)) == 0;
    if (!ok && ::ftruncate(fd_.get(), 0) != 0) {
        // The check fails on whatever is left: nothing more to do.
    }
    return ok;
}

}  // namespace pop3d::mailbox
