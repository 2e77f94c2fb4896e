#include "mailbox/uid_prefetch.hpp"

#include "mailbox/uid_scan.hpp"

#include <algorithm>

namespace pop3d::mailbox {

std::unique_ptr<UidPrefetch> UidPrefetch::start(int fd, std::uint32_t first) {
    auto slot = std::make_unique<HelperSlot>();
    if (!slot->taken()) return nullptr;
    auto p = std::make_unique<UidPrefetch>(Key{}, fd, first);
    p->next_index_ = first;
    p->slot_ = std::move(slot);
    UidPrefetch* self = p.get();
    p->helper_ = start_helper([self]() noexcept { self->run(); });
    if (!p->helper_) return nullptr;
    return p;
}

UidPrefetch::~UidPrefetch() {
    {
        const std::lock_guard lock(mu_);
        cancel_ = true;
    }
    cv_.notify_all();
    helper_.reset();  // joined
}

void UidPrefetch::add(const MessageEntry& m) {
    bool queued = false;
    {
        const std::lock_guard lock(mu_);
        if (batches_.empty() || batches_.back().state != Batch::State::open) {
            batches_.emplace_back();
            batches_.back().first = next_index_;
        }
        Batch& b = batches_.back();
        b.entries.push_back(m);
        b.bytes += m.content_end - m.from_offset;
        ++next_index_;
        if (b.bytes >= kBatchBytes) {
            b.state = Batch::State::queued;
            queued = true;
        }
    }
    if (queued) cv_.notify_one();
}

void UidPrefetch::finish_adding() {
    {
        const std::lock_guard lock(mu_);
        if (!batches_.empty() && batches_.back().state == Batch::State::open)
            batches_.back().state = Batch::State::queued;
        adding_done_ = true;
    }
    cv_.notify_all();
}

UidPrefetch::Batch* UidPrefetch::take_front() {
    for (Batch& b : batches_)
        if (b.state == Batch::State::queued) {
            b.state = Batch::State::taken;
            return &b;
        }
    return nullptr;
}

UidPrefetch::Batch* UidPrefetch::take_back() {
    for (auto it = batches_.rbegin(); it != batches_.rend(); ++it)
        if (it->state == Batch::State::queued) {
            it->state = Batch::State::taken;
            return &*it;
        }
    return nullptr;
}

// A batch's bytes end where its last message does: what follows is the
// next batch's. Called without the lock: the batch is this thread's.
void UidPrefetch::hash(Batch& b) {
    b.overrides.clear();
    b.hashed.clear();
    b.ok = compute_uid_digests(fd_, b.entries, b.first, b.entries.back().content_end, b.overrides);
    constexpr std::uint32_t kIdFlags = MessageEntry::kHasOverride | MessageEntry::kPeerId;
    b.hashed.reserve(b.entries.size());
    for (const MessageEntry& m : b.entries) b.hashed.push_back({m.digest, m.flags & kIdFlags});
    b.entries = {};
}

// The helper: batches from the front until none is left, or it is told to
// stop. It gives the slot back as soon as it is done, so that another
// session's large UIDL can have the second core.
void UidPrefetch::run() noexcept {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] {
            return cancel_ || adding_done_ ||
                   std::any_of(batches_.begin(), batches_.end(),
                               [](const Batch& b) { return b.state == Batch::State::queued; });
        });
        if (cancel_) break;
        Batch* b = take_front();
        if (!b) {
            if (adding_done_) break;
            continue;
        }
        lock.unlock();
        bool hashed = true;
        try {
            hash(*b);
        } catch (...) {  // no memory here: complete() does it
            hashed = false;
        }
        lock.lock();
        b->state = hashed ? Batch::State::done : Batch::State::queued;
        cv_.notify_all();  // complete() may be waiting for this one
        if (!hashed) break;
    }
    lock.unlock();
    slot_.reset();
}

bool UidPrefetch::complete(std::span<MessageEntry> messages, UidOverrides& overrides) {
    // This thread takes what nobody has started, from the back; then waits
    // for the helper's last batch.
    for (;;) {
        Batch* b = nullptr;
        {
            const std::lock_guard lock(mu_);
            b = take_back();
        }
        if (!b) break;
        hash(*b);
        const std::lock_guard lock(mu_);
        b->state = Batch::State::done;
    }
    {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
            return std::none_of(batches_.begin(), batches_.end(),
                                [](const Batch& b) { return b.state == Batch::State::taken; });
        });
    }
    helper_.reset();  // nothing is left for it: joined
    bool ok = next_index_ - first_ == messages.size();
    for (Batch& b : batches_) {
        if (b.state != Batch::State::done) hash(b);  // left by a helper out of memory
        ok = ok && b.ok;
        if (!ok) break;
        for (std::size_t k = 0; k < b.hashed.size(); ++k) {
            MessageEntry& m = messages[b.first - first_ + k];
            m.digest = b.hashed[k].digest;
            m.flags = (m.flags & ~(MessageEntry::kHasOverride | MessageEntry::kPeerId)) | b.hashed[k].flags;
        }
        overrides.merge(b.overrides);
    }
    batches_.clear();
    return ok;
}

}  // namespace pop3d::mailbox
