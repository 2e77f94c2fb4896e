// One pass over an mbox file that finds the messages and their canonical sizes.
//
// The mbox rule (documented in docs/DESIGN.md): a message starts at a line
// that begins with "From " at the start of the file or right after LF; that
// From_ line is not part of the message. If the last line before the next
// From_ line (or before the end of the file) is empty, it is the separator
// the MDA added and is not part of the message either. Empty lines before the
// first From_ line are ignored; anything else there means "not an mbox".
//
// mboxcl (procmail with a Content-Length header, dovecot-lda, mutt's
// rewrites): a message whose single Content-Length header is consistent,
// that is, the body of that length ends exactly at the end of the file or
// where a From_ line starts (right after it, or after one empty separator
// line), ends there: "From " lines inside that body are body text, and
// nothing in it is unquoted. A Content-Length that is not consistent is
// ignored, so it can swallow nothing.
#pragma once

#include "mailbox/mbox_grammar.hpp"
#include "mailbox/message_index.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace pop3d::mailbox {

// Random access to the bytes being indexed, for the Content-Length rule.
struct MboxSource {
    std::uint64_t size = 0;  // the input's length: its end is the end of the file
    // Reads up to len bytes at offset; returns how many (fewer at the end).
    std::function<std::size_t(std::uint64_t offset, char* buf, std::size_t len)> read;
};

// The first `size` bytes of the file open on fd, read with pread.
MboxSource file_source(int fd, std::uint64_t size);

class MboxIndexer {
public:
    // max_messages: index no more; the rest of the input is left alone, as
    // if it had been appended later (finish() then reports full()).
    // source: the whole input, for the Content-Length rule; without one,
    // Content-Length headers are ignored. start: the offset of the first
    // byte fed, which must begin a From_ line (a saved index goes on from
    // its last message: resumable()).
    explicit MboxIndexer(bool unquote, std::size_t max_messages = static_cast<std::size_t>(-1),
                         const MboxSource* source = nullptr, std::uint64_t start = 0)
        : unquote_(unquote), max_messages_(max_messages), source_(source), pos_(start), line_start_(start) {}
    // Feed the file's bytes in order, in chunks of any size.
    void feed(const char* data, std::size_t len);
    // End of input; false (and error()) when the data is not an mbox file,
    // or changed while it was read (the source and the bytes fed disagree).
    bool finish();
    const std::string& error() const { return error_; }
    // Whether finish() failed because the input changed while it was read.
    bool changed() const { return changed_; }
    // After finish(): where the indexed messages end. Short of the input's
    // end when that is an incomplete From_ line (no message yet).
    std::uint64_t end() const { return end_; }
    // max_messages were indexed and another From_ line followed: stop feeding.
    bool full() const { return full_; }
    MessageIndex& messages() { return messages_; }
    // Called with each message as it is indexed, in order (its end known).
    void on_message(std::function<void(const MessageEntry&)> f) { on_message_ = std::move(f); }

    // Whether indexing [from_offset of the last message, end of file) anew
    // gives the index of the whole file, once it has grown, that `indexed`
    // (a whole index of its first bytes) would become: every message but
    // the last ended where it did, unless a Content-Length that was ignored
    // reached past its message and could now reach a From_ line appended
    // (such a message is indexed anew, with the whole file).
    static bool resumable(const MessageIndex& indexed);

private:
    enum class State { line_start, from, header_c, rest };
    std::size_t step(const char* data, std::size_t i, std::size_t n);
    bool start_line(char c);
    bool match_from(char c);
    std::size_t scan_lines(const char* data, std::size_t i, std::size_t n);
    std::size_t scan_counted_body(const char* data, std::size_t i, std::size_t n);
    std::size_t collect_header(const char* data, std::size_t i, std::size_t n);
    void on_from_match();
    void on_line_end(std::uint64_t lf_offset, bool bare);
    void on_headers_end(std::uint64_t body_start);
    void parse_header_line();
    bool length_ends_at_a_message_boundary(std::uint64_t body_start, std::uint64_t end);
    bool input_ends_inside_a_from_line(std::uint64_t body_start);
    std::size_t peek(std::uint64_t offset, char* buf, std::size_t len);
    void close_counted_body(char last_byte);
    void begin_message(std::uint64_t offset);
    void end_message(std::uint64_t end);

    bool unquote_;
    std::size_t max_messages_;
    const MboxSource* source_;
    bool full_ = false;
    State state_ = State::line_start;
    std::uint64_t pos_ = 0;         // offset of the next byte fed
    std::uint64_t line_start_ = 0;  // offset of the current line
    char prev_ = '\n';              // last byte fed
    mbox::FromMatcher from_;        // a line that starts with 'F' or '>'
    const char* chunk_ = nullptr;   // the chunk being fed (for lookahead)
    std::size_t chunk_len_ = 0;

    bool have_message_ = false;
    bool in_from_line_ = false;
    bool not_mbox_ = false;
    bool changed_ = false;
    MessageEntry cur_;
    std::uint64_t bare_lf_ = 0;
    std::uint64_t unquoted_ = 0;
    std::uint64_t last_line_start_ = 0;
    std::uint64_t last_line_end_ = 0;  // offset after the LF of the last full line
    bool last_line_empty_ = false;
    bool last_line_bare_ = false;

    // The header section of the current message and its Content-Length.
    static constexpr std::size_t kHeaderProbe = 64;  // enough of a line for "Content-Length: <20 digits>"
    bool in_headers_ = false;
    bool length_seen_ = false;
    bool length_bad_ = false;  // two of them, folded, or not a number: ignored
    bool last_field_was_length_ = false;
    std::uint64_t length_ = 0;
    char header_[kHeaderProbe];
    std::size_t header_len_ = 0;
    // A consistent Content-Length: the body is counted up to body_end_,
    // then only a separator may come before the next From_ line.
    std::uint64_t ignored_length_end_ = 0;  // where an inconsistent length would end (0: none)
    bool in_counted_body_ = false;
    bool end_fixed_ = false;
    std::uint64_t body_end_ = 0;
    std::uint32_t separator_lines_ = 0;

    MessageIndex messages_;
    std::function<void(const MessageEntry&)> on_message_;
    std::uint64_t end_ = 0;
    std::string error_;
};

}  // namespace pop3d::mailbox
