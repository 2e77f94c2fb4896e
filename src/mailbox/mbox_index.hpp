// One pass over an mbox file that finds the messages and their canonical sizes.
//
// The mbox rule (documented in docs/DESIGN.md): a message starts at a line
// that begins with "From " at the start of the file or right after LF; that
// From_ line is not part of the message. If the last line before the next
// From_ line (or before the end of the file) is empty, it is the separator
// the MDA added and is not part of the message either. Empty lines before the
// first From_ line are ignored; anything else there means "not an mbox".
#pragma once

#include "mailbox/message_index.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pop3d::mailbox {

class MboxIndexer {
public:
    // max_messages: index no more; the rest of the input is left alone, as
    // if it had been appended later (finish() then reports full()).
    explicit MboxIndexer(bool unquote, std::size_t max_messages = static_cast<std::size_t>(-1))
        : unquote_(unquote), max_messages_(max_messages) {}
    // Feed the file's bytes in order, in chunks of any size.
    void feed(const char* data, std::size_t len);
    // End of input; false (and error()) when the data is not an mbox file.
    bool finish();
    const std::string& error() const { return error_; }
    // After finish(): where the indexed messages end. Short of the input's
    // end when that is an incomplete From_ line (no message yet).
    std::uint64_t end() const { return end_; }
    // max_messages were indexed and another From_ line followed: stop feeding.
    bool full() const { return full_; }
    MessageIndex& messages() { return messages_; }

private:
    enum class State { line_start, gt, from, rest };
    std::size_t scan_lines(const char* data, std::size_t i, std::size_t n);
    void on_from_match();
    void on_line_end(std::uint64_t lf_offset, bool bare);
    void begin_message(std::uint64_t offset);
    void end_message(std::uint64_t end);

    bool unquote_;
    std::size_t max_messages_;
    bool full_ = false;
    State state_ = State::line_start;
    std::uint64_t pos_ = 0;         // offset of the next byte fed
    std::uint64_t line_start_ = 0;  // offset of the current line
    char prev_ = '\n';              // last byte fed
    std::uint32_t gts_ = 0;         // '>' seen at line start
    std::uint32_t matched_ = 0;     // chars of "From " matched

    bool have_message_ = false;
    bool in_from_line_ = false;
    bool not_mbox_ = false;
    MessageEntry cur_;
    std::uint64_t bare_lf_ = 0;
    std::uint64_t unquoted_ = 0;
    std::uint64_t last_line_start_ = 0;
    std::uint64_t last_line_end_ = 0;  // offset after the LF of the last full line
    bool last_line_empty_ = false;
    bool last_line_bare_ = false;

    MessageIndex messages_;
    std::uint64_t end_ = 0;
    std::string error_;
};

}  // namespace pop3d::mailbox
