#include "mailbox/message_encoder.hpp"

#include "mailbox/byte_masks.hpp"

#include <algorithm>
#include <cstring>

namespace pop3d::mailbox {

namespace {
constexpr char kFrom[] = "From ";
constexpr std::uint32_t kFromLen = 5;
constexpr std::size_t kWindow = 16 * 1024;      // what is asked of the sink at a time
constexpr std::size_t kBlockRoom = 3 * kBlock;  // a block's worst case: every byte a bare LF, plus a copy's overrun
constexpr std::size_t kDirect = 4 * 1024;       // longer pieces of the slow path are written as they are
}  // namespace

MessageEncoder::MessageEncoder(ByteSink& out, bool unquote, bool dot_stuff, std::optional<std::uint64_t> body_lines)
    : out_(out), unquote_(unquote), dot_stuff_(dot_stuff), body_lines_(body_lines) {}

// Makes sure `need` bytes fit in the output window.
bool MessageEncoder::room(std::size_t need) {
    if (static_cast<std::size_t>(out_end_ - out_ptr_) >= need) return true;
    if (!flush_out()) return false;
    const std::size_t want = std::max(need, kWindow);
    const std::span<char> lent = out_.space(want);
    lent_ = lent.size() >= want;
    if (lent_) {
        out_begin_ = lent.data();
        out_end_ = lent.data() + lent.size();
    } else {
        if (!staging_) staging_ = std::make_unique_for_overwrite<char[]>(kWindow + kBlockRoom);
        out_begin_ = staging_.get();
        out_end_ = staging_.get() + kWindow + kBlockRoom;
    }
    out_ptr_ = out_begin_;
    return true;
}

bool MessageEncoder::flush_out() {
    if (failed_) return false;
    const auto n = static_cast<std::size_t>(out_ptr_ - out_begin_);
    if (n > 0 && !(lent_ ? out_.commit(n) : out_.write(std::string_view(out_begin_, n)))) failed_ = true;
    out_begin_ = out_ptr_ = out_end_ = nullptr;  // a lent buffer is no longer ours
    return !failed_;
}

bool MessageEncoder::emit(const char* p, std::size_t n) {
    if (failed_) return false;
    if (n >= kDirect) {  // e.g. a long line of CRLF mail: no copy
        if (!flush_out()) return false;
        if (!out_.write(std::string_view(p, n))) failed_ = true;
        return !failed_;
    }
    if (n > 0 && room(n)) {
        std::memcpy(out_ptr_, p, n);
        out_ptr_ += n;
    }
    return !failed_;
}

// Whole lines of the body (no TOP limit), 64 bytes at a time: one mask
// finds the line ends; the block is copied into the output window segment
// by segment, 64 bytes at a time (the window has room for the overrun),
// with a CR before every bare LF. Stops after a line end whose next line
// starts with '.' (dot-stuffing) or, when unquoting, '>': the byte-wise
// code handles that line start. Needs two blocks of input ahead.
std::size_t MessageEncoder::convert_lines(const char* data, std::size_t i, std::size_t n) {
    char before = i > 0 ? data[i - 1] : prev_;
    bool look = false;
    while (i + 2 * kBlock <= n && !look) {
        if (!room(kBlockRoom)) return i;
        const char* p = data + i;
        char* o = out_ptr_;
        std::size_t from = 0;  // bytes of the block before `from` are out
        std::size_t len = kBlock;
        for (std::uint64_t nl = eq_mask(p, '\n'); nl != 0; nl &= nl - 1) {
            const std::size_t k = low_bit(nl);
            if ((k > 0 ? p[k - 1] : before) != '\r') {
                std::memcpy(o, p + from, kBlock);
                o += k - from;
                *o++ = '\r';
                from = k;
            }
            const char next = p[k + 1];
            if (next == '.' || (next == '>' && unquote_)) {
                look = true;
                len = k + 1;
                break;
            }
        }
        std::memcpy(o, p + from, kBlock);
        out_ptr_ = o + (len - from);
        before = p[len - 1];
        i += len;
    }
    if (look) state_ = State::line_start;
    prev_ = before;
    line_len_ = 0;  // only TOP reads it, and TOP never comes here
    return i;
}

bool MessageEncoder::emit_gts(std::uint64_t count) {
    static constexpr char gts[64] = {
        '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
        '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
        '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
        '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
    };
    while (count > 0) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(count, sizeof gts));
        if (!emit(gts, n)) return false;
        count -= n;
    }
    return true;
}

// A '>' run or a partial "From " at a line start that turned out not to be a
// quoted From line goes out unchanged.
bool MessageEncoder::flush_pending() {
    if (state_ == State::gt) return emit_gts(gts_);
    if (state_ == State::from) return emit_gts(gts_) && emit(kFrom, matched_);
    return true;
}

void MessageEncoder::end_line(bool bare) {
    const bool empty = line_len_ == 0 || (line_len_ == 1 && !bare);
    line_len_ = 0;
    if (!body_lines_) return;
    if (in_headers_) {
        if (empty) in_headers_ = false;
    } else {
        ++body_sent_;
    }
    if (!in_headers_ && body_sent_ >= *body_lines_) done_ = true;
}

bool MessageEncoder::feed(const char* data, std::size_t n) {
    std::size_t i = 0;
    while (i < n && !done_ && !failed_) {
        if (state_ == State::rest && !body_lines_) {
            i = convert_lines(data, i, n);
            any_ = any_ || i > 0;
            if (i >= n || failed_) break;
        }
        switch (state_) {
        case State::line_start: {
            const char c = data[i];
            if (c == '>' && unquote_) {
                state_ = State::gt;
                gts_ = 1;
                ++i;
                ++line_len_;
                prev_ = c;
            } else {
                if (c == '.' && dot_stuff_) emit(".", 1);
                state_ = State::rest;
            }
            break;
        }
        case State::gt:
            if (data[i] == '>') {
                ++gts_;
            } else if (data[i] == 'F') {
                state_ = State::from;
                matched_ = 1;
            } else {
                flush_pending();
                state_ = State::rest;
                break;
            }
            prev_ = data[i];
            ++i;
            ++line_len_;
            break;
        case State::from:
            if (data[i] == kFrom[matched_]) {
                prev_ = data[i];
                ++i;
                ++line_len_;
                if (++matched_ == kFromLen) {  // ">>From " goes out as ">From "
                    emit_gts(gts_ - 1);
                    emit(kFrom, kFromLen);
                    state_ = State::rest;
                }
            } else {
                flush_pending();
                state_ = State::rest;
            }
            break;
        case State::rest: {
            const void* hit = std::memchr(data + i, '\n', n - i);
            if (!hit) {
                emit(data + i, n - i);
                line_len_ += n - i;
                prev_ = data[n - 1];
                i = n;
                break;
            }
            const std::size_t j = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
            const char before = j > i ? data[j - 1] : prev_;
            line_len_ += j - i;
            if (before == '\r') {
                emit(data + i, j + 1 - i);
            } else {
                emit(data + i, j - i);
                emit("\r\n", 2);
            }
            end_line(before != '\r');
            prev_ = '\n';
            i = j + 1;
            state_ = State::line_start;
            break;
        }
        }
        any_ = true;
    }
    return flush_out();  // all of it handed over: a failing sink shows now
}

bool MessageEncoder::finish() {
    if (failed_) return false;
    if (!done_ && any_) {
        if (!flush_pending()) return false;
        state_ = State::line_start;
        if (prev_ != '\n' && !(prev_ == '\r' ? emit("\n", 1) : emit("\r\n", 2))) return false;
    }
    return flush_out();
}

}  // namespace pop3d::mailbox
