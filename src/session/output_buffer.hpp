// Collects responses and writes them in large pieces: a pipelined batch of
// commands costs one write, and message streaming writes kFlushAt bytes at
// a time, converted straight into this buffer (space/commit). The buffer
// is released while the session waits for the client, so an idle
// connection holds no output memory.
#pragma once

#include "mailbox/maildrop.hpp"
#include "session/transport.hpp"

#include <memory>
#include <string_view>

namespace pop3d::session {

class OutputBuffer final : public mailbox::ByteSink {
public:
    static constexpr std::size_t kFlushAt = 128 * 1024;
    explicit OutputBuffer(Transport& transport) : transport_(transport) {}

    bool write(std::string_view bytes) override;
    std::span<char> space(std::size_t want) override;
    bool commit(std::size_t n) override;
    bool flush();
    void release();  // flush first
    bool failed() const { return failed_; }
    std::size_t pending() const { return size_; }

private:
    Transport& transport_;
    std::unique_ptr<char[]> buf_;  // kFlushAt bytes while in use
    std::size_t size_ = 0;
    bool failed_ = false;
};

}  // namespace pop3d::session
