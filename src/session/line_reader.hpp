// Splits client input into lines in a fixed buffer. A line longer than the
// limit is reported once, when its end arrives, and is never buffered whole.
// An owned buffer is allocated at the first space() and can be given back
// (release) while nothing is buffered: an idle connection holds none.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace pop3d::session {

class LineReader {
public:
    explicit LineReader(std::size_t capacity);  // allocated when first needed
    // Works in storage the caller owns and outlives the reader (tests look
    // at it after the reader is gone).
    explicit LineReader(std::span<char> storage);
    // Wipes the whole buffer: a stop or an end() can leave pipelined lines
    // (PASS, AUTH responses) unconsumed in it.
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    enum class Next { line, too_long, need_more };
    // The next complete line, without its LF or CRLF. max_len counts the
    // line with its CRLF, as RFC 2449 does; it must not exceed capacity.
    Next next(std::string_view& line, std::size_t max_len);
    // Overwrites the bytes of lines already returned (passwords).
    void wipe_consumed();
    // Drops (and wipes) everything buffered: after STLS, no plaintext that
    // came with it may be taken as a command inside TLS.
    void discard_buffered();
    // Room to read into, then how much was read.
    std::span<char> space();
    void commit(std::size_t n);
    // True when a complete line (or a too-long line's end) is buffered.
    bool has_line() const;
    // Wipes and frees an owned buffer that holds no unconsumed byte (a
    // partial line stays); space() allocates a new one.
    void release();
    bool holds_buffer() const { return buf_ != nullptr; }

private:
    std::unique_ptr<char[]> owned_;  // empty with caller storage
    char* buf_ = nullptr;  // nullptr while released
    std::size_t capacity_;
    std::size_t start_ = 0;     // first unconsumed byte
    std::size_t end_ = 0;       // end of buffered bytes
    std::size_t scanned_ = 0;   // bytes from start_ already known to hold no LF
    bool discarding_ = false;   // inside a too-long line
};

}  // namespace pop3d::session
