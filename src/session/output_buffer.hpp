// Collects responses and writes them in large pieces: a pipelined batch of
// commands costs one write, and message streaming writes 64 KiB at a time.
// The buffer is released while the session waits for the client, so an idle
// connection holds no output memory.
#pragma once

#include "mailbox/maildrop.hpp"
#include "session/transport.hpp"

#include <string>
#include <string_view>

namespace pop3d::session {

class OutputBuffer final : public mailbox::ByteSink {
public:
    static constexpr std::size_t kFlushAt = 64 * 1024;
    explicit OutputBuffer(Transport& transport) : transport_(transport) {}

    bool write(std::string_view bytes) override;
    bool flush();
    void release();  // flush first
    bool failed() const { return failed_; }
    std::size_t pending() const { return buf_.size(); }

private:
    Transport& transport_;
    std::string buf_;
    bool failed_ = false;
};

}  // namespace pop3d::session
