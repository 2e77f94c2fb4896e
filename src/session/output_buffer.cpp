#include "session/output_buffer.hpp"

namespace pop3d::session {

bool OutputBuffer::write(std::string_view bytes) {
    if (failed_) return false;
    if (buf_.capacity() < kFlushAt) buf_.reserve(kFlushAt);
    if (buf_.size() + bytes.size() > kFlushAt && !flush()) return false;
    if (bytes.size() >= kFlushAt) {  // large pieces go straight out
        if (!transport_.write(bytes.data(), bytes.size())) failed_ = true;
        return !failed_;
    }
    buf_.append(bytes);
    return true;
}

bool OutputBuffer::flush() {
    if (failed_) return false;
    if (!buf_.empty()) {
        if (!transport_.write(buf_.data(), buf_.size())) failed_ = true;
        buf_.clear();
    }
    return !failed_;
}

void OutputBuffer::release() {
    std::string().swap(buf_);
}

}  // namespace pop3d::session
