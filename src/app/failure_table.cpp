#include "app/failure_table.hpp"

#include "common/unique_fd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

namespace pop3d::app {

namespace {

constexpr std::uint32_t kMagic = 0x70336166;  // "p3af"
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kWays = 8;  // slots per bucket

using Key = std::array<std::uint8_t, 16>;

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

// IPv4 as v4-mapped IPv6; IPv6 by its /64. nullopt for anything else.
std::optional<Key> key_of(std::string_view address) {
    if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char text[INET6_ADDRSTRLEN];
    std::memcpy(text, address.data(), address.size());
    text[address.size()] = '\0';
    Key k{};
    in_addr v4{};
    if (::inet_pton(AF_INET, text, &v4) == 1) {
        k[10] = k[11] = 0xff;
        std::memcpy(k.data() + 12, &v4, 4);
        return k;
    }
    if (::inet_pton(AF_INET6, text, k.data()) != 1) return std::nullopt;
    const bool mapped = std::all_of(k.begin(), k.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
                        k[10] == 0xff && k[11] == 0xff;
    if (!mapped) std::fill(k.begin() + 8, k.end(), 0);
    return k;
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

bool init_layout(FailureTable::Layout* m) {
    std::uint64_t salt = 0;
    if (::getrandom(&salt, sizeof salt, 0) != static_cast<ssize_t>(sizeof salt)) salt = 0x9e3779b97f4a7c15ULL;
    pthread_mutexattr_t attr;
    ::pthread_mutexattr_init(&attr);
    ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    const bool ok = ::pthread_mutex_init(&m->mutex, &attr) == 0;
    ::pthread_mutexattr_destroy(&attr);
    m->salt = salt;
    m->version = kVersion;
    m->magic = kMagic;
    return ok;
}

void* map_fd(int fd, std::size_t length) {
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? nullptr : p;
}

// Creates the file fully initialised under a temporary name, then links it
// into place, so nobody ever maps a half-made table.
bool create_file(const std::string& path, std::string* error) {
    std::string tmp = path + ".XXXXXX";
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd) {
        *error = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd.get(), 0600) == 0 && ::ftruncate(fd.get(), sizeof(FailureTable::Layout)) == 0;
    if (ok) {
        void* p = map_fd(fd.get(), sizeof(FailureTable::Layout));
        ok = p && init_layout(static_cast<FailureTable::Layout*>(p));
        if (p) ::munmap(p, sizeof(FailureTable::Layout));
    }
    ok = ok && (::link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST);  // EEXIST: another process won
    if (!ok) *error = "cannot create " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return ok;
}

}  // namespace

std::unique_ptr<FailureTable> FailureTable::open(const std::string& path, std::chrono::seconds window,
                                                 std::string* error) {
    constexpr std::size_t length = sizeof(Layout);
    if (!path.empty()) {
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        if (!fd && errno == ENOENT && create_file(path, error))
            fd.reset(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        struct stat st {};
        if (!fd) {
            if (error->empty()) *error = "cannot open " + path + ": " + std::strerror(errno);
        } else if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
                   (st.st_mode & 077) != 0 || static_cast<std::size_t>(st.st_size) != length) {
            *error = path + " is not a private regular file of the right size (remove it)";
        } else if (void* p = map_fd(fd.get(), length)) {
            auto* m = static_cast<Layout*>(p);
            if (m->magic == kMagic && m->version == kVersion) return std::make_unique<FailureTable>(m, length, window);
            ::munmap(p, length);
            *error = path + " is not a pop3d failure table (remove it)";
        } else {
            *error = "cannot map " + path + ": " + std::strerror(errno);
        }
    }
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || !init_layout(static_cast<Layout*>(p))) {
        if (p != MAP_FAILED) ::munmap(p, length);
        return nullptr;
    }
    return std::make_unique<FailureTable>(static_cast<Layout*>(p), length, window);
}

FailureTable::~FailureTable() { ::munmap(map_, length_); }

template <typename F>
auto FailureTable::with_slot(std::string_view address, bool create, F&& f) -> decltype(f(nullptr, 0u)) {
    const std::optional<Key> key = key_of(address);
    if (!key) return f(nullptr, 0u);
    int rc = ::pthread_mutex_lock(&map_->mutex);
    if (rc == EOWNERDEAD) rc = ::pthread_mutex_consistent(&map_->mutex);  // the holder died: counts may be off by one
    if (rc != 0) return f(nullptr, 0u);
    struct Unlock {
        pthread_mutex_t* m;
        ~Unlock() { ::pthread_mutex_unlock(m); }
    } unlock{&map_->mutex};

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

void FailureTable::record_failure(std::string_view address) {
    with_slot(address, true, [](Slot* s, std::uint32_t now) {
        if (s) {
            if (s->count < UINT32_MAX) ++s->count;
            s->last = now;
        }
        return 0u;
    });
}

}  // namespace pop3d::app
