#include "mailbox/message_encoder.hpp"

#include "mailbox/mbox_grammar.hpp"

#include <algorithm>
#include <cstring>

namespace pop3d::mailbox {

namespace {
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

// Whole lines of the body (no TOP limit), 64 bytes at a time
// (mbox::each_line_end); the block is copied into the output window
// segment by segment, 64 bytes at a time (the window has room for the
// overrun), with a CR before every bare LF. Stops after a line end whose
// next line starts with '.' (dot-stuffing) or, when unquoting, '>': the
// byte-wise code handles that line start. Needs two blocks of input ahead.
std::size_t MessageEncoder::convert_lines(const char* data, std::size_t i, std::size_t n) {
    char before = i > 0 ? data[i - 1] : prev_;
    std::size_t stop = 0;
    while (i + 2 * kBlock <= n && stop == 0) {
        if (!room(kBlockRoom)) return i;
        const char* p = data + i;
        char* o = out_ptr_;
        std::size_t from = 0;  // bytes of the block before `from` are out
        stop = mbox::each_line_end(p, before, [&](unsigned k, bool bare) {
            if (bare) {
                std::memcpy(o, p + from, kBlock);
                o += k - from;
                *o++ = '\r';
                from = k;
            }
            const char next = p[k + 1];
            return next == '.' || (next == '>' && unquote_);
        });
        const std::size_t len = stop != 0 ? stop : kBlock;
        std::memcpy(o, p + from, kBlock);
        out_ptr_ = o + (len - from);
        before = p[len - 1];
        i += len;
    }
    if (stop != 0) state_ = State::line_start;
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
    if (state_ != State::gt) return true;
    const std::string_view matched = from_.matched();
    return emit_gts(from_.gts()) && emit(matched.data(), matched.size());
}

void MessageEncoder::end_line(bool bare) {
    const bool empty = mbox::empty_line(line_len_, bare);
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
        case State::line_start: i += start_line(data[i]); break;
        case State::gt: i += match_from(data[i]); break;
        case State::rest: i = copy_line(data, i, n); break;
        }
        any_ = true;
    }
    return flush_out();  // all of it handed over: a failing sink shows now
}

// The first byte of a line: a '>' may begin a quoted From line, a '.' is
// doubled. Returns whether c was consumed.
[[gnu::always_inline]] inline bool MessageEncoder::start_line(char c) {
    if (c == '>' && unquote_) {
        state_ = State::gt;
        from_.reset();
        return match_from(c);
    }
    if (c == '.' && dot_stuff_) emit(".", 1);
    state_ = State::rest;
    return false;
}

// ">"+ "From " so far; returns whether c was consumed. ">>From " goes out
// as ">From ".
[[gnu::always_inline]] inline bool MessageEncoder::match_from(char c) {
    const auto step = from_.step(c);
    if (step == mbox::FromMatcher::Step::other) {
        flush_pending();
        state_ = State::rest;
        return false;
    }
    prev_ = c;
    ++line_len_;
    if (step == mbox::FromMatcher::Step::from_line) {
        emit_gts(from_.gts() - 1);
        emit(mbox::kFromLine.data(), mbox::kFromLine.size());
        state_ = State::rest;
    }
    return true;
}

// The rest of a line, to its LF or the chunk's end, with a CR before a
// bare LF.
[[gnu::always_inline]] inline std::size_t MessageEncoder::copy_line(const char* data, std::size_t i, std::size_t n) {
    const std::size_t j = mbox::find_lf(data, i, n);
    if (j == n) {
        emit(data + i, n - i);
        line_len_ += n - i;
        prev_ = data[n - 1];
        return n;
    }
    const bool bare = mbox::bare_lf(j > i ? data[j - 1] : prev_);
    line_len_ += j - i;
    if (bare) {
        emit(data + i, j - i);
        emit("\r\n", 2);
    } else {
        emit(data + i, j + 1 - i);
    }
    end_line(bare);
    prev_ = '\n';
    state_ = State::line_start;
    return j + 1;
}

bool MessageEncoder::finish() {
    if (failed_) return false;
    if (!done_ && any_) {
        if (!flush_pending()) return false;
        state_ = State::line_start;
        const std::string_view line_end = mbox::missing_line_end(prev_);
        if (!line_end.empty() && !emit(line_end.data(), line_end.size())) return false;
    }
    return flush_out();
}

}  // namespace pop3d::mailbox
