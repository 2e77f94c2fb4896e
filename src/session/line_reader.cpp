#include "session/line_reader.hpp"

#include <cstring>

namespace pop3d::session {

LineReader::LineReader(std::size_t capacity) : capacity_(capacity) {}

LineReader::LineReader(std::span<char> storage) : buf_(storage.data()), capacity_(storage.size()) {}

// explicit_bzero: a memset just before the free could be optimised away.
LineReader::~LineReader() {
    if (buf_) explicit_bzero(buf_, capacity_);
}

void LineReader::release() {
    if (!owned_ || start_ != end_) return;
    explicit_bzero(buf_, capacity_);
    owned_.reset();
    buf_ = nullptr;
    start_ = end_ = scanned_ = 0;
}

bool LineReader::has_line() const {
    if (!buf_) return false;
    return std::memchr(buf_ + start_, '\n', end_ - start_) != nullptr;
}

LineReader::Next LineReader::next(std::string_view& line, std::size_t max_len) {
    if (max_len > capacity_) max_len = capacity_;
    if (!buf_) return Next::need_more;  // released: nothing buffered
    char* base = buf_;
    const void* hit = std::memchr(base + start_ + scanned_, '\n', end_ - start_ - scanned_);
    if (!hit) {
        scanned_ = end_ - start_;
        if (discarding_ || end_ - start_ >= max_len) {
            // Drop what we have of the long line and wait for its end.
            discarding_ = true;
            std::memset(base, 0, end_);
            start_ = end_ = scanned_ = 0;
        }
        return Next::need_more;
    }
    const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
    const std::size_t raw_len = lf - start_ + 1;  // with the LF
    const bool was_discarding = discarding_;
    discarding_ = false;
    const std::size_t line_start = start_;
    start_ = lf + 1;
    scanned_ = 0;
    if (was_discarding) return Next::too_long;
    // Count the line as if it ended in CRLF.
    const bool has_cr = lf > line_start && base[lf - 1] == '\r';
    const std::size_t wire_len = has_cr ? raw_len : raw_len + 1;
    if (wire_len > max_len) return Next::too_long;
    line = std::string_view(base + line_start, lf - line_start - (has_cr ? 1 : 0));
    return Next::line;
}

void LineReader::wipe_consumed() {
    if (buf_) std::memset(buf_, 0, start_);
}

std::span<char> LineReader::space() {
    if (!buf_) {
        owned_ = std::make_unique_for_overwrite<char[]>(capacity_);
        buf_ = owned_.get();
    }
    if (start_ > 0) {  // slide unconsumed bytes to the front
        std::memset(buf_, 0, start_);
        std::memmove(buf_, buf_ + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
        std::memset(buf_ + end_, 0, capacity_ - end_);
    }
    return {buf_ + end_, capacity_ - end_};
}

void LineReader::commit(std::size_t n) { end_ += n; }

void LineReader::discard_buffered() {
    if (buf_) std::memset(buf_, 0, capacity_);
    start_ = end_ = scanned_ = 0;
    discarding_ = false;
}

}  // namespace pop3d::session
