#include "session/output_buffer.hpp"

#include <cstring>

namespace pop3d::session {

bool OutputBuffer::write(std::string_view bytes) {
    if (failed_) return false;
    if (size_ + bytes.size() > kFlushAt && !flush()) return false;
    if (bytes.size() >= kFlushAt) {  // large pieces go straight out
        if (!transport_.write(bytes.data(), bytes.size())) failed_ = true;
        return !failed_;
    }
    reserve(size_ + bytes.size());
    std::memcpy(data() + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
    return true;
}

std::span<char> OutputBuffer::space(std::size_t want) {
    if (failed_ || want > kFlushAt) return {};
    if (kFlushAt - size_ < want && !flush()) return {};
    reserve(kFlushAt);  // a message is converted in pieces as large as there is room
    return {heap_.get() + size_, kFlushAt - size_};
}

bool OutputBuffer::commit(std::size_t n) {
    if (failed_) return false;
    size_ += n;
    return size_ < kFlushAt || flush();
}

bool OutputBuffer::flush() {
    if (failed_) return false;
    if (size_ > 0) {
        if (!transport_.write(data(), size_)) failed_ = true;
        size_ = 0;
    }
    return !failed_;
}

void OutputBuffer::reserve(std::size_t n) {
    if (n <= capacity()) return;
    heap_ = std::make_unique_for_overwrite<char[]>(kFlushAt);
    if (size_ > 0) std::memcpy(heap_.get(), inline_.data(), size_);
}

void OutputBuffer::release() {
    heap_.reset();
    size_ = 0;
}

}  // namespace pop3d::session
