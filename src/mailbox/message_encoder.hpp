// Turns a stored message's bytes into what goes on the wire: LF becomes CRLF
// (an existing CRLF stays as it is), one '>' comes off ">+From " lines when
// unquoting, a '.' starting a line is doubled (dot-stuffing), and a message
// that ends without a line end gets one. Streams: any chunking of the input
// gives the same output, and nothing is buffered beyond the current chunk.
// The sizes the indexer computes are exactly this output minus the stuffed dots.
// The bulk of a message is converted 64 bytes at a time (byte_masks.hpp).
#pragma once

#include "mailbox/maildrop.hpp"
#include "mailbox/mbox_grammar.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace pop3d::mailbox {

class MessageEncoder {
public:
    // body_lines: send only the headers, the blank line and this many body lines (TOP).
    MessageEncoder(ByteSink& out, bool unquote, bool dot_stuff, std::optional<std::uint64_t> body_lines);
    MessageEncoder(const MessageEncoder&) = delete;
    MessageEncoder& operator=(const MessageEncoder&) = delete;
    // Returns false when the sink failed. Everything converted has been
    // handed to the sink when it returns. Stops consuming once done().
    bool feed(const char* data, std::size_t n);
    // End of the message: flushes a pending line start and adds the final line end.
    bool finish();
    // TOP has sent all it was asked for; further input is ignored.
    bool done() const { return done_; }

private:
    enum class State { line_start, gt, rest };  // gt: a line that starts with '>'
    bool start_line(char c);
    bool match_from(char c);
    std::size_t copy_line(const char* data, std::size_t i, std::size_t n);
    std::size_t convert_lines(const char* data, std::size_t i, std::size_t n);
    bool room(std::size_t need);
    bool flush_out();
    bool emit(const char* p, std::size_t n);
    bool emit_gts(std::uint64_t count);
    bool flush_pending();
    void end_line(bool bare);

    ByteSink& out_;
    bool unquote_;
    bool dot_stuff_;
    std::optional<std::uint64_t> body_lines_;
    State state_ = State::line_start;
    mbox::FromMatcher from_;
    std::uint64_t line_len_ = 0;  // raw bytes of the current line so far
    char prev_ = '\n';            // last raw byte consumed
    bool any_ = false;            // consumed at least one byte
    bool in_headers_ = true;
    std::uint64_t body_sent_ = 0;
    bool done_ = false;
    bool failed_ = false;

    // The output window: bytes are converted into the sink's own buffer
    // when it lends one, else into staging_; flush_out() hands them over.
    char* out_begin_ = nullptr;
    char* out_ptr_ = nullptr;
    char* out_end_ = nullptr;
    bool lent_ = false;
    std::unique_ptr<char[]> staging_;
};

}  // namespace pop3d::mailbox
