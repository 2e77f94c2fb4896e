#include "mailbox/message_index.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace pop3d::mailbox {

namespace {

constexpr std::size_t kHugePage = 2 * 1024 * 1024;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

std::size_t page_size() {
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

// An anonymous mapping of `bytes` (a multiple of kHugePage) that starts on a
// huge page boundary, so that the kernel can back it with huge pages.
void* map_aligned(std::size_t bytes) {
    void* raw = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = round_up(start, kHugePage);
    if (aligned > start) ::munmap(raw, aligned - start);
    const std::uintptr_t end = start + bytes + kHugePage;
    if (end > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
    void* p = reinterpret_cast<void*>(aligned);
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without transparent huge pages it just fails
    return p;
}

}  // namespace

void MessageIndex::grow(std::size_t at_least) {
    std::size_t next = capacity_ ? capacity_ * 2 : 16;
    if (next < at_least) next = at_least;
    const std::size_t bytes = next * sizeof(MessageEntry);
    if (bytes <= kMapThreshold) {
        void* p = std::realloc(data_, bytes);
        if (!p) throw std::bad_alloc();
        data_ = static_cast<MessageEntry*>(p);
        capacity_ = next;
        return;
    }
    const std::size_t map_bytes = round_up(bytes, kHugePage);
    auto* p = static_cast<MessageEntry*>(map_aligned(map_bytes));
    std::memcpy(p, data_, size_ * sizeof(MessageEntry));
    release_storage();
    data_ = p;
    map_bytes_ = map_bytes;
    capacity_ = map_bytes / sizeof(MessageEntry);
}

void MessageIndex::shrink_to_fit() {
    if (map_bytes_ == 0) {
        if (size_ > 0 && size_ < capacity_) {
            if (void* p = std::realloc(data_, size_ * sizeof(MessageEntry))) {
                data_ = static_cast<MessageEntry*>(p);
                capacity_ = size_;
            }
        }
        return;
    }
    const std::size_t keep = round_up(size_ * sizeof(MessageEntry), page_size());
    if (keep == 0 || keep >= map_bytes_) return;
    ::munmap(reinterpret_cast<char*>(data_) + keep, map_bytes_ - keep);
    map_bytes_ = keep;
    capacity_ = keep / sizeof(MessageEntry);
}

void MessageIndex::release_storage() {
    if (map_bytes_) ::munmap(data_, map_bytes_);
    else std::free(data_);
    data_ = nullptr;
    map_bytes_ = 0;
}

void MessageIndex::swap(MessageIndex& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    std::swap(map_bytes_, o.map_bytes_);
}

}  // namespace pop3d::mailbox
