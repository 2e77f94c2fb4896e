#include "log/session_id.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string_view>

namespace pop3d::log {

namespace {

constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford's, lower case
constexpr unsigned kHalf = 20;                                              // bits per Feistel half
constexpr std::uint64_t kHalfMask = (std::uint64_t{1} << kHalf) - 1;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

std::uint64_t boot_key() {
    // The same for every process of the host until the next boot: processes
    // that never talk to each other still draw from one permutation.
    static const std::uint64_t key = [] {
        std::ifstream in("/proc/sys/kernel/random/boot_id");
        std::string id;
        std::getline(in, id);
        std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
        for (const unsigned char c : id) h = (h ^ c) * 0x100000001b3ULL;
        return h;
    }();
    return key;
}

std::string session_id_for(std::uint32_t pid, std::uint32_t count, std::uint64_t key) {
    const std::uint64_t value = (std::uint64_t{pid} & 0x3fffff) << 18 | (count & 0x3ffff);
    // A Feistel network is a permutation whatever its round function.
    std::uint64_t left = value >> kHalf, right = value & kHalfMask;
    for (std::uint64_t round = 0; round < 4; ++round) {
        const std::uint64_t next = left ^ (mix(key ^ (round << 32) ^ right) & kHalfMask);
        left = right;
        right = next;
    }
    std::uint64_t out = left << kHalf | right;
    std::string id(8, '0');
    for (std::size_t i = id.size(); i-- > 0; out >>= 5) id[i] = kAlphabet[out & 31];
    return id;
}

std::string new_session_id() {
    static std::atomic<std::uint32_t> count{0};
    return session_id_for(static_cast<std::uint32_t>(::getpid()), count++, boot_key());
}

}  // namespace pop3d::log
