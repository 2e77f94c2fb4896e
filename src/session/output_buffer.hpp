// Collects responses and writes them in large pieces: a pipelined batch of
// commands costs one write, and message streaming writes kFlushAt bytes at
// a time, converted straight into this buffer (space/commit). Short
// responses (a greeting, a login exchange) are collected in a few hundred
// bytes inside the object; the kFlushAt heap buffer is taken only when a
// batch or a message needs it, and released while the session waits for
// the client: an idle connection holds no output memory, and thousands of
// connections greeted at once leave no 128 KiB holes in the malloc arenas.
#pragma once

#include "mailbox/maildrop.hpp"
#include "session/transport.hpp"

#include <array>
#include <memory>
#include <string_view>

namespace pop3d::session {

class OutputBuffer final : public mailbox::ByteSink {
public:
    static constexpr std::size_t kFlushAt = 128 * 1024;
    static constexpr std::size_t kInline = 256;
    explicit OutputBuffer(Transport& transport) : transport_(transport) {}
    OutputBuffer(const OutputBuffer&) = delete;
    OutputBuffer& operator=(const OutputBuffer&) = delete;

    bool write(std::string_view bytes) override;
    std::span<char> space(std::size_t want) override;
    bool commit(std::size_t n) override;
    bool flush();
    void release();  // flush first
    bool failed() const { return failed_; }
    std::size_t pending() const { return size_; }
    bool holds_heap_buffer() const { return heap_ != nullptr; }

private:
    // Moves to the heap buffer (keeping what is buffered) when n bytes do
    // not fit inline.
    void reserve(std::size_t n);
    char* data() { return heap_ ? heap_.get() : inline_.data(); }
    std::size_t capacity() const { return heap_ ? kFlushAt : kInline; }

    Transport& transport_;
    std::unique_ptr<char[]> heap_;  // kFlushAt bytes while in use
    std::size_t size_ = 0;
    bool failed_ = false;
    std::array<char, kInline> inline_;
};

}  // namespace pop3d::session
