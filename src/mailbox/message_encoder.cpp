#include "mailbox/message_encoder.hpp"

#include <algorithm>
#include <cstring>

namespace pop3d::mailbox {

namespace {
constexpr char kFrom[] = "From ";
constexpr std::uint32_t kFromLen = 5;
}  // namespace

MessageEncoder::MessageEncoder(ByteSink& out, bool unquote, bool dot_stuff, std::optional<std::uint64_t> body_lines)
    : out_(out), unquote_(unquote), dot_stuff_(dot_stuff), body_lines_(body_lines) {}

bool MessageEncoder::emit(const char* p, std::size_t n) {
    if (failed_) return false;
    if (n > 0 && !out_.write(std::string_view(p, n))) failed_ = true;
    return !failed_;
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
    return !failed_;
}

bool MessageEncoder::finish() {
    if (failed_) return false;
    if (done_ || !any_) return true;
    if (!flush_pending()) return false;
    state_ = State::line_start;
    if (prev_ == '\n') return true;
    return prev_ == '\r' ? emit("\n", 1) : emit("\r\n", 2);
}

}  // namespace pop3d::mailbox
