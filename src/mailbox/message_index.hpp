// The index of an open maildrop: one MessageEntry per message, in mailbox
// order. A growable array that stays in the heap while small and, past
// kMapThreshold, lives in a mapping of its own, aligned and advised for
// transparent huge pages. On a virtual machine with shadow page tables the
// first touch of every 4 KiB page costs microseconds: a million-message
// index in 4 KiB pages cost as much as scanning the mailbox.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace pop3d::mailbox {

struct MessageEntry {
    std::uint64_t from_offset = 0;     // first byte of the From_ line
    std::uint64_t content_offset = 0;  // first byte after the From_ line
    std::uint64_t content_end = 0;     // end of the message (separator excluded)
    std::uint64_t size = 0;            // canonical octets (CRLF, unquoted if enabled)
    std::array<std::uint8_t, 16> digest{};  // UID hash (filled lazily)
    std::uint32_t dup = 0;             // >0: the UID carries a suffix to stay unique
    std::uint32_t flags = 0;
    static constexpr std::uint32_t kHasOverride = 1;    // the UID comes from X-UIDL or uidl_compat
    static constexpr std::uint32_t kContentLength = 2;  // ends where its Content-Length says (mboxcl)
    // Its Content-Length was ignored (not consistent) and reaches past the
    // next From_ line: deleting messages after it could make it consistent.
    static constexpr std::uint32_t kLengthReachesPast = 4;
    static constexpr std::uint32_t kPeerId = 8;  // the UID is the one an old server gave (uidl_compat)
    // Whether ">From " lines lose a '>' when sent: mboxcl writers quote
    // nothing, so a message delimited by its Content-Length is sent as is.
    bool unquoted(bool unquote_option) const { return unquote_option && !(flags & kContentLength); }
};
// The whole per-message cost of an open maildrop (X-UIDL values aside).
static_assert(sizeof(MessageEntry) <= 64, "index entry grew past 64 bytes");

class MessageIndex {
public:
    static_assert(std::is_trivially_copyable_v<MessageEntry>, "entries are moved as bytes");
    static constexpr std::size_t kMapThreshold = 1024 * 1024;  // bytes

    MessageIndex() = default;
    MessageIndex(const MessageIndex&) = delete;
    MessageIndex& operator=(const MessageIndex&) = delete;
    MessageIndex(MessageIndex&& other) noexcept { swap(other); }
    MessageIndex& operator=(MessageIndex&& other) noexcept {
        MessageIndex(std::move(other)).swap(*this);
        return *this;
    }
    ~MessageIndex() { release_storage(); }

    // Throws std::bad_alloc when memory runs out, like a vector.
    void push_back(const MessageEntry& e) {
        if (size_ == capacity_) grow();
        data_[size_++] = e;
    }
    void clear() { size_ = 0; }  // keeps the storage
    // Keeps the first n entries (n <= size()).
    void truncate(std::size_t n) { size_ = n < size_ ? n : size_; }
    // n entries whose bytes the caller writes next (a saved index read back).
    void resize_for_overwrite(std::size_t n) {
        if (capacity_ < n) grow(n);
        size_ = n;
    }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    MessageEntry& operator[](std::size_t i) { return data_[i]; }
    const MessageEntry& operator[](std::size_t i) const { return data_[i]; }
    MessageEntry* data() { return data_; }
    const MessageEntry* data() const { return data_; }
    MessageEntry* begin() { return data_; }
    MessageEntry* end() { return data_ + size_; }
    const MessageEntry* begin() const { return data_; }
    const MessageEntry* end() const { return data_ + size_; }
    const MessageEntry& front() const { return data_[0]; }
    const MessageEntry& back() const { return data_[size_ - 1]; }
    // Gives back what is held beyond size().
    void shrink_to_fit();

private:
    void grow(std::size_t at_least = 0);
    void release_storage();
    void swap(MessageIndex& o) noexcept;

    MessageEntry* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
    std::size_t map_bytes_ = 0;  // the mapping's length; 0: data_ is heap memory
};

}  // namespace pop3d::mailbox
