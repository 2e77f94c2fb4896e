#include "app/session_registry.hpp"

#include "common/shared_state.hpp"
#include "common/unique_fd.hpp"
#include "log/session_id.hpp"
#include "net/stop_flag.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <charconv>
#include <cstdio>

namespace pop3d::app {

namespace {

constexpr std::uint32_t kMagic = 0x70337373;  // "p3ss"
constexpr std::uint32_t kVersion = 1;

// The state word: the owner's tid, a generation that changes at every
// claim (so a copy of a slot names one session, never its successor), and
// the phase.
constexpr std::uint64_t kGenerationMask = 0xffffff;

constexpr Phase phase_of(std::uint64_t state) { return static_cast<Phase>(state & 0xff); }
constexpr std::uint32_t generation_of(std::uint64_t state) { return (state >> 8) & kGenerationMask; }
constexpr pid_t tid_of(std::uint64_t state) { return static_cast<pid_t>(state >> 32); }
constexpr std::uint64_t make_state(pid_t tid, std::uint32_t generation, Phase phase) {
    return std::uint64_t{static_cast<std::uint32_t>(tid)} << 32 | std::uint64_t{generation & kGenerationMask} << 8 |
           static_cast<std::uint64_t>(phase);
}
// The same session (tid and generation), whatever its phase.
constexpr bool same_session(std::uint64_t a, std::uint64_t b) { return (a >> 8) == (b >> 8); }

template <std::size_t N>
void copy_text(char (&to)[N], std::string_view from) {
    const std::size_t n = std::min(from.size(), N - 1);
    std::memcpy(to, from.data(), n);
    to[n] = '\0';
}

template <std::size_t N>
std::string text_of(const char (&from)[N]) {
    return std::string(from, ::strnlen(from, N));
}

}  // namespace

struct SessionRegistry::Slot {
    std::atomic<std::uint64_t> state;
    std::atomic<std::uint32_t> kick;  // the generation pop3d kick ended (0: none)
    std::atomic<std::int32_t> pid;
    std::atomic<std::uint64_t> start_ticks;  // the owner thread's start (0: unknown)
    std::atomic<std::uint64_t> boot;         // log::boot_key() of the owner's boot
    std::atomic<std::uint64_t> pid_ns;       // the owner's pid namespace (0: unknown)
    std::atomic<std::int64_t> since;         // connect, seconds since the epoch
    char session[16];
    char address[48];  // numeric: INET6_ADDRSTRLEN is 46
    char proxy[48];
    char user[208];  // max_username_length is at most 200
};

struct SessionRegistry::Layout {
    std::uint32_t magic;
    std::uint32_t version;
    std::atomic<std::uint32_t> high;  // slots ever claimed: readers stop here
    std::uint32_t unused;
    Slot slots[kSlots];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the table is shared between processes");

namespace {

bool init_layout(void*) { return true; }  // all zeroes

const shared_state::Kind kKind{kMagic, kVersion, sizeof(SessionRegistry::Layout), init_layout,
                               "a pop3d session registry"};

pid_t this_thread() { return static_cast<pid_t>(::gettid()); }

// The pid namespace this process sees pids in: a slot's pid and tid mean
// nothing to a process of another one (a daemon in a container).
std::uint64_t pid_namespace() {
    static const std::uint64_t ns = [] {
        struct stat st {};
        return ::stat("/proc/self/ns/pid", &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
    }();
    return ns;
}

bool same_pid_namespace(std::uint64_t ns) { return ns == 0 || pid_namespace() == 0 || ns == pid_namespace(); }

// Whether the thread that claimed the slot copied into row is gone. Only
// sure answers count: a thread /proc hides (hidepid) is alive, and so is
// one in another pid namespace.
bool owner_gone(const SessionRegistry::Row& row, std::uint64_t boot) {
    if (boot != log::boot_key()) return true;
    if (!same_pid_namespace(row.pid_ns)) return false;
    if (::tgkill(row.pid, row.tid, 0) != 0 && errno == ESRCH) return true;
    if (row.start_ticks == 0) return false;
    const auto started = thread_start_ticks(row.pid, row.tid);
    return started && *started != row.start_ticks;
}

}  // namespace

std::string_view to_string(Phase phase) {
    switch (phase) {
    case Phase::free: return "free";
    case Phase::claiming: return "connecting";
    case Phase::authorization: return "authorization";
    case Phase::transaction: return "transaction";
    case Phase::update: return "update";
    }
    return "unknown";
}

// Read with a small buffer on the stack, not a stream: every session thread
// asks this once, and an ifstream's 8 KiB buffer and locale would be left
// in the thread's malloc arena and stack for as long as it is idle.
std::optional<std::uint64_t> thread_start_ticks(pid_t pid, pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/task/%d/stat", static_cast<int>(pid), static_cast<int>(tid));
    const UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    // The first 22 fields: a command name of at most 64 bytes and 20
    // numbers of at most 20 digits each fit.
    char buf[640];
    std::size_t got = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
        if (got == sizeof buf) break;
    }
    const std::string_view line(buf, got);
    const std::size_t paren = line.rfind(')');  // the command name may hold anything but is in ( )
    if (paren == std::string_view::npos) return std::nullopt;
    std::string_view rest = line.substr(paren + 1);
    for (int i = 3; i <= 22; ++i) {  // field 22 is starttime
        const std::size_t begin = rest.find_first_not_of(' ');
        if (begin == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(begin);
        const std::string_view field = rest.substr(0, rest.find(' '));
        rest.remove_prefix(field.size());
        if (i < 22) continue;
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
        if (ec != std::errc{} || end != field.data() + field.size() || rest.empty()) return std::nullopt;
        return value;
    }
    return std::nullopt;
}

std::string SessionRegistry::file_fault(const std::string& path) { return shared_state::file_fault(path, kKind); }

std::unique_ptr<SessionRegistry> SessionRegistry::open(const std::string& path, std::string* error) {
    void* p = shared_state::map(path, kKind, error);
    return p ? std::make_unique<SessionRegistry>(static_cast<Layout*>(p)) : nullptr;
}

std::unique_ptr<SessionRegistry> SessionRegistry::attach(const std::string& path, std::string* error) {
    void* p = shared_state::attach(path, kKind, error);
    return p ? std::make_unique<SessionRegistry>(static_cast<Layout*>(p)) : nullptr;
}

SessionRegistry::~SessionRegistry() { shared_state::unmap(map_, kKind); }

std::unique_ptr<SessionRegistry::Entry> SessionRegistry::enter(const log::Connection& connection) {
    const pid_t tid = this_thread();
    // A free slot first; only when there is none, one whose owner is dead.
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < kSlots; ++i) {
            Slot& s = map_->slots[i];
            std::uint64_t old = s.state.load(std::memory_order_acquire);
            if (phase_of(old) != Phase::free) {
                if (pass == 0 || phase_of(old) == Phase::claiming) continue;
                const std::optional<Row> row = read(i, false);
                if (!row || !owner_gone(*row, s.boot.load(std::memory_order_relaxed))) continue;
                old = row->state;
            }
            const std::uint32_t generation = (generation_of(old) + 1) & kGenerationMask;
            const std::uint64_t mine = make_state(tid, generation == 0 ? 1 : generation, Phase::claiming);
            if (!s.state.compare_exchange_strong(old, mine, std::memory_order_acq_rel)) continue;
            s.kick.store(0, std::memory_order_relaxed);
            s.pid.store(::getpid(), std::memory_order_relaxed);
            s.start_ticks.store(thread_start_ticks(::getpid(), tid).value_or(0), std::memory_order_relaxed);
            s.boot.store(log::boot_key(), std::memory_order_relaxed);
            s.pid_ns.store(pid_namespace(), std::memory_order_relaxed);
            s.since.store(std::time(nullptr), std::memory_order_relaxed);
            copy_text(s.session, connection.session);
            copy_text(s.address, connection.address);
            copy_text(s.proxy, connection.proxy);
            s.user[0] = '\0';
            std::uint32_t high = map_->high.load(std::memory_order_relaxed);
            while (high < i + 1 && !map_->high.compare_exchange_weak(high, static_cast<std::uint32_t>(i + 1))) {
            }
            auto entry = std::make_unique<Entry>(&s, mine);
            entry->move_to(Phase::authorization);  // published: readers may copy it now
            return entry;
        }
    }
    return nullptr;
}

void SessionRegistry::Entry::move_to(Phase phase) {
    if (!slot_) return;
    const std::uint64_t next = make_state(tid_of(state_), generation_of(state_), phase);
    std::uint64_t expected = state_;
    // Fails only when the slot was taken from us as stale, which a live
    // thread's slot never is: then it is no longer ours to write.
    if (slot_->state.compare_exchange_strong(expected, next, std::memory_order_acq_rel))
        state_ = next;
    else
        slot_ = nullptr;
}

SessionRegistry::Entry::~Entry() { move_to(Phase::free); }

void SessionRegistry::Entry::logged_in(std::string_view user) {
    if (!slot_) return;
    copy_text(slot_->user, user);  // published by the swap below
    move_to(Phase::transaction);
}

void SessionRegistry::Entry::updating() { move_to(Phase::update); }

bool SessionRegistry::Entry::kicked() const {
    return slot_ && slot_->kick.load(std::memory_order_acquire) == generation_of(state_);
}

std::optional<SessionRegistry::Row> SessionRegistry::read(std::size_t index, bool with_text) {
    Slot& s = map_->slots[index];
    for (int attempt = 0; attempt < 4; ++attempt) {
        const std::uint64_t state = s.state.load(std::memory_order_acquire);
        const Phase phase = phase_of(state);
        if (phase == Phase::free || phase == Phase::claiming) return std::nullopt;
        Row row;
        row.index = index;
        row.state = state;
        row.phase = phase;
        row.tid = tid_of(state);
        row.pid = s.pid.load(std::memory_order_relaxed);
        row.start_ticks = s.start_ticks.load(std::memory_order_relaxed);
        row.pid_ns = s.pid_ns.load(std::memory_order_relaxed);
        row.since = s.since.load(std::memory_order_relaxed);
        if (with_text) {
            row.session = text_of(s.session);
            row.address = text_of(s.address);
            row.proxy = text_of(s.proxy);
            if (phase != Phase::authorization) row.user = text_of(s.user);
        }
        // Nothing changed under the copy? A read-modify-write that changes
        // nothing: its release half keeps the copy before it (a fence would
        // do, but ThreadSanitizer knows no fences).
        if (s.state.fetch_add(0, std::memory_order_acq_rel) == state) return row;
    }
    return std::nullopt;  // changing too fast to copy: it is busy logging in or out
}

std::vector<SessionRegistry::Row> SessionRegistry::live() {
    std::vector<Row> rows;
    const std::size_t high = std::min<std::size_t>(map_->high.load(std::memory_order_acquire), kSlots);
    for (std::size_t i = 0; i < high; ++i) {
        std::optional<Row> row = read(i);
        if (!row) continue;
        Slot& s = map_->slots[i];
        if (owner_gone(*row, s.boot.load(std::memory_order_relaxed))) {
            std::uint64_t expected = row->state;
            s.state.compare_exchange_strong(expected, make_state(0, generation_of(row->state), Phase::free));
            continue;
        }
        rows.push_back(std::move(*row));
    }
    return rows;
}

bool SessionRegistry::still_there(const Row& row) const {
    const std::uint64_t now = map_->slots[row.index].state.load(std::memory_order_acquire);
    return phase_of(now) != Phase::free && same_session(now, row.state);
}

SessionRegistry::Kick SessionRegistry::kick(const Row& row) {
    Slot& s = map_->slots[row.index];
    // The flag first, then the check that the slot is still this session's:
    // a successor in the slot has another generation and ignores the flag.
    s.kick.store(generation_of(row.state), std::memory_order_release);
    if (!still_there(row)) return Kick::gone;
    if (!same_pid_namespace(row.pid_ns)) return Kick::flagged;  // its pid is not one we can signal
    if (row.start_ticks != 0) {
        const auto started = thread_start_ticks(row.pid, row.tid);
        if (!started) return ::tgkill(row.pid, row.tid, 0) != 0 && errno == ESRCH ? Kick::gone : Kick::flagged;
        if (*started != row.start_ticks) return Kick::gone;  // its id belongs to another thread now
    }
    if (::tgkill(row.pid, row.tid, net::kWakeSignal) == 0) return Kick::signalled;
    return errno == ESRCH ? Kick::gone : Kick::flagged;
}

}  // namespace pop3d::app
