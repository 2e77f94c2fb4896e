#include "mailbox/mbox_index.hpp"

#include "mailbox/byte_masks.hpp"

#include <cstring>

namespace pop3d::mailbox {

namespace {
constexpr char kFrom[] = "From ";
constexpr std::uint32_t kFromLen = 5;
}  // namespace

void MboxIndexer::feed(const char* data, std::size_t n) {
    std::size_t i = 0;
    while (i < n && !full_) {
        if (state_ == State::rest && have_message_ && !in_from_line_) {
            i = scan_lines(data, i, n);
            if (i >= n) break;
        }
        switch (state_) {
        case State::line_start: {
            const char c = data[i];
            if (c == 'F') {
                state_ = State::from;
                gts_ = 0;
                matched_ = 1;
                ++i;
            } else if (c == '>') {
                state_ = State::gt;
                gts_ = 1;
                ++i;
            } else {
                state_ = State::rest;
            }
            break;
        }
        case State::gt:
            if (data[i] == '>') {
                ++gts_;
                ++i;
            } else if (data[i] == 'F') {
                state_ = State::from;
                matched_ = 1;
                ++i;
            } else {
                state_ = State::rest;
            }
            break;
        case State::from:
            if (data[i] == kFrom[matched_]) {
                ++i;
                if (++matched_ == kFromLen) {
                    on_from_match();
                    state_ = State::rest;
                }
            } else {
                state_ = State::rest;
            }
            break;
        case State::rest: {
            const void* hit = std::memchr(data + i, '\n', n - i);
            if (!hit) {
                i = n;
                break;
            }
            const std::size_t j = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
            const char before = j > 0 ? data[j - 1] : prev_;
            on_line_end(pos_ + j, before != '\r');
            i = j + 1;
            state_ = State::line_start;
            break;
        }
        }
    }
    if (n > 0) prev_ = data[n - 1];
    pos_ += n;
}

// The bulk of a message, 64 bytes at a time: one mask finds the line ends,
// and what on_line_end() would record is done right here for each (a
// line is some 60 bytes: most blocks hold one). Stops after a line end
// whose next line starts with 'F' or '>' (it may be a From_ or a quoted
// From line: the byte-wise code looks at it) or where fewer than 65 bytes
// are left (the byte after a block's last line end must be in reach).
std::size_t MboxIndexer::scan_lines(const char* data, std::size_t i, std::size_t n) {
    // Locals, not members: stores through this-> could alias the bytes read.
    char before = i > 0 ? data[i - 1] : prev_;
    std::uint64_t bare_lf = bare_lf_, line_start = line_start_, last_start = last_line_start_;
    std::uint64_t last_end = last_line_end_;
    bool last_empty = last_line_empty_, last_bare = last_line_bare_;
    bool look = false;
    while (i + kBlock < n && !look) {
        const char* p = data + i;
        std::uint64_t nl = eq_mask(p, '\n');
        for (; nl != 0; nl &= nl - 1) {
            const unsigned k = low_bit(nl);
            const bool bare = (k > 0 ? p[k - 1] : before) != '\r';
            const std::uint64_t lf = pos_ + i + k;
            bare_lf += bare;
            last_start = line_start;
            last_end = lf + 1;
            last_bare = bare;
            last_empty = lf == line_start || (lf == line_start + 1 && !bare);
            line_start = lf + 1;
            const char next = p[k + 1];
            if (next == 'F' || next == '>') {
                look = true;
                i += k + 1;
                break;
            }
        }
        if (!look) {
            before = p[kBlock - 1];
            i += kBlock;
        }
    }
    bare_lf_ = bare_lf;
    line_start_ = line_start;
    last_line_start_ = last_start;
    last_line_end_ = last_end;
    last_line_empty_ = last_empty;
    last_line_bare_ = last_bare;
    if (look) state_ = State::line_start;
    return i;
}

void MboxIndexer::on_from_match() {
    if (gts_ == 0) {
        if (have_message_) end_message(line_start_);
        if (messages_.size() >= max_messages_) {
            full_ = true;  // the index ends where this message starts
            end_ = line_start_;
            return;
        }
        begin_message(line_start_);
    } else if (unquote_ && have_message_ && !in_from_line_) {
        ++unquoted_;
    }
}

void MboxIndexer::on_line_end(std::uint64_t lf, bool bare) {
    const std::uint64_t len = lf - line_start_;
    // An empty line is "\n" or "\r\n".
    const bool empty = len == 0 || (len == 1 && !bare);
    if (in_from_line_) {
        cur_.content_offset = lf + 1;
        in_from_line_ = false;
    } else if (have_message_) {
        if (bare) ++bare_lf_;
        last_line_start_ = line_start_;
        last_line_end_ = lf + 1;
        last_line_empty_ = empty;
        last_line_bare_ = bare;
    } else if (!empty) {
        not_mbox_ = true;
    }
    line_start_ = lf + 1;
}

void MboxIndexer::begin_message(std::uint64_t offset) {
    cur_ = MessageEntry{};
    cur_.from_offset = offset;
    have_message_ = true;
    in_from_line_ = true;
    bare_lf_ = 0;
    unquoted_ = 0;
    last_line_end_ = 0;
    last_line_empty_ = false;
    last_line_bare_ = false;
}

void MboxIndexer::end_message(std::uint64_t end) {
    std::uint64_t content_end = end;
    std::uint64_t bare = bare_lf_;
    std::uint64_t tail = 0;
    if (last_line_end_ == end && last_line_empty_ && last_line_start_ >= cur_.content_offset) {
        content_end = last_line_start_;  // drop the separator line
        if (last_line_bare_) --bare;
    } else if (end > cur_.content_offset && last_line_end_ != end) {
        // The message ends inside a line (end of file without a final newline):
        // a CRLF is added when it is sent, or just LF after a trailing CR.
        tail = prev_ == '\r' ? 1 : 2;
    }
    cur_.content_end = content_end;
    cur_.size = (content_end - cur_.content_offset) + bare + tail - (unquote_ ? unquoted_ : 0);
    messages_.push_back(cur_);
    have_message_ = false;
}

bool MboxIndexer::finish() {
    if (full_) return true;
    end_ = pos_;
    if (have_message_ && in_from_line_) {
        // The file ends inside a From_ line: a delivery cut short (or still
        // being written by an MDA that does not lock). It is no message; its
        // bytes lie past the snapshot, so an expunge keeps them as they are.
        end_ = cur_.from_offset;
        have_message_ = in_from_line_ = false;
    } else if (have_message_) {
        end_message(pos_);
    } else if (line_start_ < pos_) {
        not_mbox_ = true;  // text without a final newline and no From_ line at all
    }
    if (not_mbox_) {
        error_ = "not an mbox file: text before the first From_ line";
        messages_.clear();
        return false;
    }
    return true;
}

}  // namespace pop3d::mailbox
