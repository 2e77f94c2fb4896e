#include "mailbox/sha256_lanes.hpp"

#include "mailbox/sha256_blocks.hpp"

#include <algorithm>

namespace pop3d::mailbox {

void Sha256Lanes::begin() {
    start_ = len_;
    Job j{};
    std::copy_n(sha256::kInitialState, 8, j.h.begin());
    j.offset = start_;
    jobs_.push_back(j);
}

void Sha256Lanes::grow(std::size_t more) {
    const std::size_t cap = std::max({cap_ * 2, len_ + more, std::size_t{64 * 1024}});
    auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(cap);
    if (len_ > 0) std::memcpy(bigger.get(), buf_.get(), len_);
    buf_ = std::move(bigger);
    cap_ = cap;
}

// A large message hashes its whole blocks now and keeps only the rest.
void Sha256Lanes::spill() {
    Job& j = jobs_.back();
    const std::size_t whole = (len_ - start_) / 64;
    sha256::blocks(j.h.data(), buf_.get() + start_, whole, portable_);
    j.spilled += whole * 64;
    const std::size_t rest = len_ - start_ - whole * 64;
    std::memmove(buf_.get() + start_, buf_.get() + start_ + whole * 64, rest);
    len_ = start_ + rest;
}

std::size_t Sha256Lanes::end() {
    Job& j = jobs_.back();
    const std::uint64_t bits = (j.spilled + (len_ - start_)) * 8;
    // 0x80, zeros up to 8 bytes short of a block, the length in bits.
    std::uint8_t pad[72] = {0x80};
    const std::size_t used = (len_ - start_ + 1) % 64;
    const std::size_t zeros = used <= 56 ? 56 - used : 120 - used;
    for (int i = 0; i < 8; ++i) pad[1 + zeros + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    const std::size_t pad_len = 1 + zeros + 8;
    if (len_ + pad_len > cap_) grow(pad_len);
    std::memcpy(buf_.get() + len_, pad, pad_len);
    len_ += pad_len;
    j.blocks = (len_ - start_) / 64;
    start_ = len_;
    return jobs_.size() - 1;
}

void Sha256Lanes::run() {
    struct Lane {
        Job* job = nullptr;
        const std::uint8_t* p = nullptr;
        std::size_t left = 0;
    };
    std::size_t next = 0;
    auto take = [&](Lane& l) {
        while (next < jobs_.size()) {
            Job& j = jobs_[next++];
            if (j.blocks == 0) continue;
            l = {&j, buf_.get() + j.offset, j.blocks};
            j.blocks = 0;
            return true;
        }
        l = {};
        return false;
    };
    Lane a, b;
    bool have_a = take(a), have_b = take(b);
    // Two messages at a time; a lane that ends takes the next message.
    if (!single_ && sha256::have_extensions()) {
        while (have_a && have_b) {
            const std::size_t n = std::min(a.left, b.left);
            sha256::blocks_x2(a.job->h.data(), a.p, b.job->h.data(), b.p, n);
            a.p += 64 * n, a.left -= n;
            b.p += 64 * n, b.left -= n;
            if (a.left == 0) have_a = take(a);
            if (b.left == 0) have_b = take(b);
        }
    }
    for (Lane* l : {&a, &b})
        if (l->job) sha256::blocks(l->job->h.data(), l->p, l->left, portable_);
    for (Lane l; take(l);) sha256::blocks(l.job->h.data(), l.p, l.left, portable_);
}

Sha256::Digest Sha256Lanes::digest(std::size_t job) const {
    Sha256::Digest out;
    const auto& h = jobs_[job].h;
    for (int i = 0; i < 8; ++i)
        for (int k = 0; k < 4; ++k) out[4 * i + k] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * k));
    return out;
}

void Sha256Lanes::clear() {
    jobs_.clear();
    len_ = start_ = 0;
}

}  // namespace pop3d::mailbox
