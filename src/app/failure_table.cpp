#include "app/failure_table.hpp"

#include "common/shared_state.hpp"
#include "net/address_key.hpp"

#include <pthread.h>
#include <sys/random.h>
#include <time.h>

#include <cstdint>
#include <optional>

namespace pop3d::app {

namespace {

constexpr std::uint32_t kMagic = 0x70336166;  // "p3af"
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kWays = 8;  // slots per bucket

using Key = net::AddressKey;

struct Slot {
    Key key;
    std::uint32_t window_start;  // seconds since boot
    std::uint32_t count;
    std::uint32_t last;
    std::uint32_t used;
};
static_assert(sizeof(Slot) == 32);

std::uint32_t now_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);  // one clock for every process, immune to date changes
    return static_cast<std::uint32_t>(ts.tv_sec);
}

}  // namespace

struct FailureTable::Layout {
    std::uint32_t magic;
    std::uint32_t version;
    std::uint64_t salt;  // keeps bucket choice unpredictable to clients
    pthread_mutex_t mutex;
    Slot slots[kSlots];
};

namespace {

bool init_layout(void* block) {
    auto* m = static_cast<FailureTable::Layout*>(block);
    std::uint64_t salt = 0;
    if (::getrandom(&salt, sizeof salt, 0) != static_cast<ssize_t>(sizeof salt)) salt = 0x9e3779b97f4a7c15ULL;
    if (!shared_state::init_robust_mutex(&m->mutex)) return false;
    m->salt = salt;
    return true;
}

const shared_state::Kind kKind{kMagic, kVersion, sizeof(FailureTable::Layout), init_layout, "a pop3d failure table"};

}  // namespace

std::string FailureTable::file_fault(const std::string& path) { return shared_state::file_fault(path, kKind); }

std::unique_ptr<FailureTable> FailureTable::open(const std::string& path, std::chrono::seconds window,
                                                 std::string* error) {
    void* p = shared_state::map(path, kKind, error);
    return p ? std::make_unique<FailureTable>(static_cast<Layout*>(p), window) : nullptr;
}

std::unique_ptr<FailureTable> FailureTable::attach(const std::string& path, std::chrono::seconds window,
                                                   std::string* error) {
    void* p = shared_state::attach(path, kKind, error);
    return p ? std::make_unique<FailureTable>(static_cast<Layout*>(p), window) : nullptr;
}

FailureTable::~FailureTable() { shared_state::unmap(map_, kKind); }

template <typename F>
auto FailureTable::with_slot(std::string_view address, bool create, F&& f) -> decltype(f(nullptr, 0u)) {
    const std::optional<Key> key = net::address_key(address);
    if (!key) return f(nullptr, 0u);
    const shared_state::RobustLock lock(&map_->mutex);  // after a dead holder counts may be off by one
    if (!lock) return f(nullptr, 0u);

    std::uint64_t h = 0xcbf29ce484222325ULL ^ map_->salt;  // FNV-1a
    for (std::uint8_t b : *key) h = (h ^ b) * 0x100000001b3ULL;
    Slot* bucket = map_->slots + (h % (kSlots / kWays)) * kWays;
    const std::uint32_t now = now_seconds();
    const auto window = static_cast<std::uint32_t>(window_.load());
    auto expired = [&](const Slot& s) { return !s.used || now - s.window_start >= window || s.window_start > now; };
    Slot* found = nullptr;
    for (std::size_t i = 0; i < kWays && !found; ++i)
        if (bucket[i].used && bucket[i].key == *key) found = &bucket[i];
    if (!found && create) {
        found = bucket;  // an expired slot, else the one idle longest
        for (std::size_t i = 0; i < kWays; ++i) {
            if (expired(bucket[i])) {
                found = &bucket[i];
                break;
            }
            if (bucket[i].last < found->last) found = &bucket[i];
        }
        *found = Slot{*key, now, 0, now, 1};
    }
    if (found && expired(*found)) {
        found->window_start = now;
        found->count = 0;
    }
    return f(found, now);
}

unsigned FailureTable::failures(std::string_view address) {
    return with_slot(address, false, [](Slot* s, std::uint32_t) { return s ? s->count : 0u; });
}

FailureTable::Guess FailureTable::reserve_guess(std::string_view address, unsigned budget) {
    // The check and the count under one lock: parallel guesses cannot all
    // read a count below the budget before any of them is counted.
    return with_slot(address, true, [budget](Slot* s, std::uint32_t now) {
        if (!s) return Guess{};
        if (budget > 0 && s->count >= budget) return Guess{false, s->count};
        const Guess g{true, s->count};
        if (s->count < UINT32_MAX) ++s->count;
        s->last = now;
        return g;
    });
}

void FailureTable::return_guess(std::string_view address) {
    // A window that restarted meanwhile holds no trace of the guess: nothing to give back.
    with_slot(address, false, [](Slot* s, std::uint32_t) {
        if (s && s->count > 0) --s->count;
        return Guess{};
    });
}

std::optional<unsigned> FailureTable::forget(std::string_view address) {
    if (!net::address_key(address)) return std::nullopt;
    // The count as reserve_guess sees it: one from an expired window is 0 already.
    return with_slot(address, false, [](Slot* s, std::uint32_t) {
        const unsigned n = s ? s->count : 0u;
        if (s) *s = Slot{};
        return n;
    });
}

FailureTable::Forgotten FailureTable::forget_all() {
    Forgotten f;
    const shared_state::RobustLock lock(&map_->mutex);
    if (!lock) return f;
    const std::uint32_t now = now_seconds();
    const auto window = static_cast<std::uint32_t>(window_.load());
    for (Slot& s : map_->slots) {
        const bool current = s.used && now - s.window_start < window && s.window_start <= now;
        if (current && s.count > 0) {
            ++f.addresses;
            f.failures += s.count;
        }
        s = Slot{};
    }
    return f;
}

}  // namespace pop3d::app
