#include "mailbox/mbox_index.hpp"

#include "common/text.hpp"
#include "mailbox/file_io.hpp"
#include "mailbox/mbox_grammar.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace pop3d::mailbox {

MboxSource file_source(int fd, std::uint64_t size) {
    return {size, [fd](std::uint64_t offset, char* buf, std::size_t len) -> std::size_t {
                return pread_full(fd, buf, len, offset) ? len : 0;
            }};
}

void MboxIndexer::feed(const char* data, std::size_t n) {
    chunk_ = data;
    chunk_len_ = n;
    std::size_t i = 0;
    while (i < n && !full_) {
        if (in_counted_body_) {
            i = scan_counted_body(data, i, n);
            continue;
        }
        if (state_ == State::rest && have_message_ && !in_from_line_ && !end_fixed_) {
            i = scan_lines(data, i, n);
            if (i >= n || in_counted_body_) continue;
        }
        i = step(data, i, n);
    }
    if (n > 0) prev_ = data[n - 1];
    pos_ += n;
    chunk_ = nullptr;
    chunk_len_ = 0;
}

// The byte-wise scanner: one step from data[i]; returns where to go on.
[[gnu::always_inline]] inline std::size_t MboxIndexer::step(const char* data, std::size_t i, std::size_t n) {
    switch (state_) {
    case State::line_start: return start_line(data[i]) ? i + 1 : i;
    case State::from: return match_from(data[i]) ? i + 1 : i;
    case State::header_c: return collect_header(data, i, n);
    case State::rest: break;
    }
    const std::size_t j = mbox::find_lf(data, i, n);
    if (j == n) return n;
    state_ = State::line_start;
    on_line_end(pos_ + j, mbox::bare_lf(j > 0 ? data[j - 1] : prev_));
    return j + 1;
}

// What the first byte of a line may begin: a From_ or quoted From line, a
// Content-Length field, or neither. Returns whether c was consumed.
[[gnu::always_inline]] inline bool MboxIndexer::start_line(char c) {
    if (in_headers_) {
        const bool continuation = c == ' ' || c == '\t';
        if (continuation && last_field_was_length_) length_bad_ = true;  // a folded Content-Length
        if (!continuation) last_field_was_length_ = false;
        if (c == 'C' || c == 'c') {
            state_ = State::header_c;
            header_len_ = 0;
            return false;
        }
    }
    state_ = State::rest;
    if (c != mbox::kFromLine[0] && c != '>') return false;
    from_.reset();
    return match_from(c);
}

// Returns whether c was consumed.
[[gnu::always_inline]] inline bool MboxIndexer::match_from(char c) {
    switch (from_.step(c)) {
    case mbox::FromMatcher::Step::more: state_ = State::from; return true;
    case mbox::FromMatcher::Step::from_line: on_from_match(); break;
    case mbox::FromMatcher::Step::other: state_ = State::rest; return false;
    }
    state_ = State::rest;
    return true;
}

// The bulk of a message, 64 bytes at a time (mbox::each_line_end): what
// on_line_end() would record is done right here for each line end (a
// line is some 60 bytes: most blocks hold one). Stops after a line end
// whose next line starts with 'F' or '>' (it may be a From_ or a quoted
// From line: the byte-wise code looks at it), in the header section also
// after the empty line that ends it and before a line that may be a
// Content-Length field, or where fewer than 65 bytes are left (the byte
// after a block's last line end must be in reach).
std::size_t MboxIndexer::scan_lines(const char* data, std::size_t i, std::size_t n) {
    // Locals, not members: stores through this-> could alias the bytes read.
    char before = i > 0 ? data[i - 1] : prev_;
    std::uint64_t bare_lf = bare_lf_, line_start = line_start_, last_start = last_line_start_;
    std::uint64_t last_end = last_line_end_;
    bool last_empty = last_line_empty_, last_bare = last_line_bare_;
    const bool headers = in_headers_;
    std::size_t stop = 0;
    while (i + kBlock < n && stop == 0) {
        const char* p = data + i;
        const std::uint64_t block_pos = pos_ + i;
        stop = mbox::each_line_end(p, before, [&](unsigned k, bool bare) {
            const std::uint64_t lf = block_pos + k;
            bare_lf += bare;
            last_start = line_start;
            last_end = lf + 1;
            last_bare = bare;
            last_empty = mbox::empty_line(lf - line_start, bare);
            line_start = lf + 1;
            const char next = p[k + 1];
            return next == mbox::kFromLine[0] || next == '>' || (headers && (last_empty || next == 'C' || next == 'c'));
        });
        before = p[kBlock - 1];
        i += stop != 0 ? stop : kBlock;
    }
    bare_lf_ = bare_lf;
    line_start_ = line_start;
    last_line_start_ = last_start;
    last_line_end_ = last_end;
    last_line_empty_ = last_empty;
    last_line_bare_ = last_bare;
    if (stop != 0) {
        state_ = State::line_start;
        if (headers && last_empty) on_headers_end(line_start);
    }
    return i;
}

// A body whose Content-Length was found consistent: no line start matters
// in it, only the bare LFs (each becomes CRLF on the wire), 64 bytes at a
// time, up to where the length says it ends.
std::size_t MboxIndexer::scan_counted_body(const char* data, std::size_t i, std::size_t n) {
    const std::uint64_t left = body_end_ - (pos_ + i);
    const std::size_t stop = left < n - i ? i + static_cast<std::size_t>(left) : n;
    char before = i > 0 ? data[i - 1] : prev_;
    std::uint64_t bare = 0;
    std::size_t k = i;
    for (; k + kBlock <= stop; k += kBlock) {
        bare += mbox::bare_lfs(data + k, before);
        before = data[k + kBlock - 1];
    }
    for (; k < stop; ++k) {
        bare += data[k] == '\n' && mbox::bare_lf(before);
        before = data[k];
    }
    bare_lf_ += bare;
    if (pos_ + stop == body_end_) close_counted_body(before);
    return stop;
}

// A header line that starts with 'C': its first bytes are kept, to see at
// its end whether it is a Content-Length field.
std::size_t MboxIndexer::collect_header(const char* data, std::size_t i, std::size_t n) {
    const std::size_t end = mbox::find_lf(data, i, n);
    const std::size_t len = end - i;
    if (header_len_ < sizeof header_) std::memcpy(header_ + header_len_, data + i, std::min(len, sizeof header_ - header_len_));
    header_len_ += len;  // may pass kHeaderProbe: then the line is too long to hold a usable length
    if (end == n) return n;
    parse_header_line();
    state_ = State::line_start;
    on_line_end(pos_ + end, mbox::bare_lf(end > 0 ? data[end - 1] : prev_));
    return end + 1;
}

// A Content-Length line is one that starts with the name (in any case)
// followed by a space, a tab, a colon, a CR or its end. It is usable only
// as "name [spaces]: [spaces] 1-19 digits [spaces]" within kHeaderProbe
// bytes; any other such line makes every length of the message ignored.
void MboxIndexer::parse_header_line() {
    constexpr std::string_view kName = "Content-Length";
    const std::string_view line(header_, std::min(header_len_, sizeof header_));
    if (line.size() < kName.size() || !text::iequals(line.substr(0, kName.size()), kName)) return;
    std::string_view rest = line.substr(kName.size());
    if (!rest.empty() && rest[0] != ' ' && rest[0] != '\t' && rest[0] != ':' && rest[0] != '\r') return;
    last_field_was_length_ = true;
    if (length_seen_) length_bad_ = true;  // two lengths: trust neither
    length_seen_ = true;
    if (rest.ends_with('\r')) rest.remove_suffix(1);
    rest = text::trim_blanks(rest);
    if (header_len_ > sizeof header_ || !rest.starts_with(':')) {  // cut off, or no colon
        length_bad_ = true;
        return;
    }
    const std::string_view value = text::trim_blanks(rest.substr(1));
    const auto parsed = value.size() <= 19 ? text::parse_u64(value) : std::nullopt;
    if (!parsed) length_bad_ = true;
    else length_ = *parsed;
}

void MboxIndexer::on_from_match() {
    if (from_.gts() == 0) {
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
    const bool empty = mbox::empty_line(len, bare);
    line_start_ = lf + 1;
    if (in_from_line_) {
        cur_.content_offset = lf + 1;
        in_from_line_ = false;
        in_headers_ = true;
    } else if (end_fixed_) {
        // After a counted body only one empty line may come before the next
        // From_ line: anything else means the file is not what the
        // Content-Length check read a moment ago.
        if (!empty || ++separator_lines_ > 1) changed_ = true;
    } else if (have_message_) {
        if (bare) ++bare_lf_;
        last_line_start_ = lf - len;
        last_line_end_ = lf + 1;
        last_line_empty_ = empty;
        last_line_bare_ = bare;
        if (in_headers_ && empty) on_headers_end(lf + 1);
    } else if (!empty) {
        not_mbox_ = true;
    }
}

// The empty line after the header fields: a single, readable Content-Length
// that ends at a message boundary delimits this message's body.
void MboxIndexer::on_headers_end(std::uint64_t body_start) {
    in_headers_ = false;
    if (!length_seen_ || length_bad_ || !source_ || body_start > source_->size) return;
    if (length_ > source_->size - body_start) {
        ignored_length_end_ = UINT64_MAX;  // past the end of the file
        return;
    }
    const std::uint64_t end = body_start + length_;
    if (!length_ends_at_a_message_boundary(body_start, end)) {
        ignored_length_end_ = end;
        return;
    }
    in_counted_body_ = true;
    body_end_ = end;
    if (end == body_start) close_counted_body('\n');  // an empty body: the blank line was the last byte
}

// The length is consistent when the body ends at the end of the file, or
// at the start of a line that is a From_ line or one empty line followed by
// a From_ line or the end of the file.
bool MboxIndexer::length_ends_at_a_message_boundary(std::uint64_t body_start, std::uint64_t end) {
    const std::uint64_t size = source_->size;
    if (end == size) return !input_ends_inside_a_from_line(body_start);
    char before = '\n';
    if (end > body_start && peek(end - 1, &before, 1) != 1) return false;
    if (before != '\n') return false;
    char buf[7];
    const std::size_t got = peek(end, buf, std::min<std::uint64_t>(sizeof buf, size - end));
    auto boundary = [&](std::size_t k) {
        return end + k == size || mbox::starts_with_from_line(buf + k, got - k);
    };
    const std::string_view ahead(buf, got);
    return boundary(0) || (ahead.starts_with("\n") && boundary(1)) || (ahead.starts_with("\r\n") && boundary(2));
}

// Bytes of the input from the chunk in hand, or else from the source.
std::size_t MboxIndexer::peek(std::uint64_t offset, char* buf, std::size_t len) {
    if (chunk_ && offset >= pos_ && offset + len <= pos_ + chunk_len_) {
        std::memcpy(buf, chunk_ + (offset - pos_), len);
        return len;
    }
    return source_->read ? source_->read(offset, buf, len) : 0;
}

// A file that ends inside a From_ line (a delivery still being written)
// does not end at a message boundary: that line is no message yet and
// lies past the snapshot, and a length must not make it body text. Reads
// back from the end for the last line's start (rare: the file must end
// without a newline).
bool MboxIndexer::input_ends_inside_a_from_line(std::uint64_t body_start) {
    const std::uint64_t size = source_->size;
    char c = '\n';
    if (size == body_start || peek(size - 1, &c, 1) != 1 || c == '\n') return false;
    std::uint64_t line = body_start;  // the body starts a line
    char buf[4096];
    for (std::uint64_t at = size; at > body_start;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, at - body_start));
        if (peek(at - n, buf, n) != n) return true;  // unreadable: no boundary to trust
        if (const void* lf = ::memrchr(buf, '\n', n)) {
            line = at - n + static_cast<std::uint64_t>(static_cast<const char*>(lf) - buf) + 1;
            break;
        }
        at -= n;
    }
    char head[mbox::kFromLine.size()];
    return size - line >= sizeof head && peek(line, head, sizeof head) == sizeof head &&
           mbox::starts_with_from_line(head, sizeof head);
}

// The counted body is over: the message ends here, nothing unquoted.
void MboxIndexer::close_counted_body(char last_byte) {
    // Short of the end of the file the check saw a line end here: the bytes
    // fed say otherwise, so the file changed while it was read.
    if (last_byte != '\n' && body_end_ != source_->size) changed_ = true;
    in_counted_body_ = false;
    end_fixed_ = true;
    separator_lines_ = 0;
    cur_.content_end = body_end_;
    // A body that ends inside a line gets CRLF on the wire (LF after a CR).
    const std::uint64_t tail = mbox::missing_line_end(last_byte).size();
    cur_.size = (body_end_ - cur_.content_offset) + bare_lf_ + tail;
    cur_.flags |= MessageEntry::kContentLength;
    state_ = State::line_start;
    line_start_ = body_end_;
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
    in_headers_ = false;
    length_seen_ = length_bad_ = last_field_was_length_ = false;
    length_ = 0;
    ignored_length_end_ = 0;
    end_fixed_ = false;
}

void MboxIndexer::end_message(std::uint64_t end) {
    have_message_ = false;
    in_headers_ = false;
    if (end_fixed_) {  // ended by its Content-Length
        end_fixed_ = false;
        messages_.push_back(cur_);
        if (on_message_) on_message_(cur_);
        return;
    }
    std::uint64_t content_end = end;
    std::uint64_t bare = bare_lf_;
    std::uint64_t tail = 0;
    if (last_line_end_ == end && last_line_empty_ && last_line_start_ >= cur_.content_offset) {
        content_end = last_line_start_;  // drop the separator line
        if (last_line_bare_) --bare;
    } else if (end > cur_.content_offset && last_line_end_ != end) {
        // The message ends inside a line (end of file without a final newline):
        // a CRLF is added when it is sent, or just LF after a trailing CR.
        tail = mbox::missing_line_end(prev_).size();
    }
    cur_.content_end = content_end;
    cur_.size = (content_end - cur_.content_offset) + bare + tail - (unquote_ ? unquoted_ : 0);
    if (ignored_length_end_ > end) cur_.flags |= MessageEntry::kLengthReachesPast;
    messages_.push_back(cur_);
    if (on_message_) on_message_(cur_);
}

bool MboxIndexer::finish() {
    if (full_ && !changed_) return true;
    end_ = pos_;
    if (in_counted_body_ || (have_message_ && end_fixed_ && line_start_ < pos_)) {
        // The file ended before the length the check had read, or a counted
        // body is followed by a partial line that is no From_ line.
        changed_ = true;
    } else if (have_message_ && in_from_line_) {
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
    if (changed_) {
        error_ = "the mailbox changed while it was indexed";
        messages_.clear();
        return false;
    }
    if (not_mbox_) {
        error_ = "not an mbox file: text before the first From_ line";
        messages_.clear();
        return false;
    }
    return true;
}

bool MboxIndexer::resumable(const MessageIndex& indexed) {
    if (indexed.empty()) return false;
    for (std::size_t i = 0; i + 1 < indexed.size(); ++i)
        if (indexed[i].flags & MessageEntry::kLengthReachesPast) return false;
    return true;
}

}  // namespace pop3d::mailbox
