// The live sessions of the host, for pop3d who and pop3d kick: a table of
// fixed slots in runtime_dir/sessions (common/shared_state), one per
// session from connect to disconnect, whichever thread, forked process or
// inetd process serves it. When the file cannot be used the table lives in
// anonymous memory and pop3d who cannot see those sessions.
//
// No lock, on purpose: after login a forked or inetd session runs as the
// user, who may stop it (SIGSTOP) at any instant, and a lock it held would
// wedge every other connect on the host. Each slot is owned through one
// 64-bit state word (tid, generation, phase) that only compare-and-swap
// changes: claim, phase changes, free. Only the owner writes its text
// fields, before the swap that publishes them; readers copy a slot and
// keep the copy only if the state word did not change meanwhile.
//
// A slot whose owner died without freeing it (kill -9, a crash) is stale:
// its thread is gone, or /proc says that thread started at another time
// (the id was reused), or it is from another boot; pop3d who and kick
// judge no slot of another pid namespace (a daemon in a container), where
// pids mean something else. Stale slots are skipped
// and freed by pop3d who and kick, and taken over when the table is full.
#pragma once

#include "log/log.hpp"
#include "session/session_observer.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pop3d::app {

enum class Phase : std::uint8_t { free = 0, claiming, authorization, transaction, update };
std::string_view to_string(Phase phase);

class SessionRegistry {
public:
    // path empty: anonymous memory. `error` says why the file was not used.
    static std::unique_ptr<SessionRegistry> open(const std::string& path, std::string* error);
    // The table in the file at path, only when it exists and is good
    // (pop3d who, kick): never created, no memory fallback.
    static std::unique_ptr<SessionRegistry> attach(const std::string& path, std::string* error);
    // Why open() would not use the file at path ("" when it would or there
    // is none): pop3d -t. Only reads.
    static std::string file_fault(const std::string& path);
    ~SessionRegistry();
    SessionRegistry(const SessionRegistry&) = delete;
    SessionRegistry& operator=(const SessionRegistry&) = delete;

    struct Layout;
    struct Slot;

    // One session's slot, held from connect to disconnect by the thread
    // that serves the session (its tid is the slot's).
    class Entry final : public session::SessionObserver {
    public:
        Entry(Slot* slot, std::uint64_t state) : slot_(slot), state_(state) {}
        ~Entry() override;  // frees the slot
        Entry(const Entry&) = delete;
        Entry& operator=(const Entry&) = delete;
        void logged_in(std::string_view user) override;
        void updating() override;
        // Whether pop3d kick asked this session to end. Async-signal-safe.
        bool kicked() const;

    private:
        friend class SessionRegistry;
        void move_to(Phase phase);
        Slot* slot_;
        std::uint64_t state_;  // what the slot's state word holds while it is ours
    };

    // Claims a slot for the calling thread's session. nullptr when every
    // slot is taken by a live session (the session goes on, unlisted).
    std::unique_ptr<Entry> enter(const log::Connection& connection);

    // A copy of one live slot.
    struct Row {
        std::size_t index = 0;
        std::uint64_t state = 0;
        Phase phase = Phase::free;
        std::string session, user, address, proxy;  // user: "" before login
        std::int64_t since = 0;                      // seconds since the epoch
        pid_t pid = 0, tid = 0;
        std::uint64_t start_ticks = 0;
        std::uint64_t pid_ns = 0;  // the pid namespace pid and tid are in
    };
    // The live sessions, in slot order; frees the slots of the dead.
    std::vector<Row> live();
    // Whether the session of row still holds its slot.
    bool still_there(const Row& row) const;

    enum class Kick {
        signalled,  // flag set and its thread woken: it ends at its next command boundary
        flagged,    // flag set, but its thread could not be verified or signalled: it ends at its next command
        gone,       // it had ended already
    };
    // Asks the session of row to end: sets its kick flag, then wakes its
    // thread with net::kWakeSignal once /proc shows the thread is still
    // the one that claimed the slot.
    Kick kick(const Row& row);

    static constexpr std::size_t kSlots = 8192;

    explicit SessionRegistry(Layout* map) : map_(map) {}

private:
    // A copy of slot index, when it holds a live phase; with_text false:
    // the owner's ids only, which its thread never changes after the claim.
    std::optional<Row> read(std::size_t index, bool with_text = true);
    Layout* map_;
};

// When the thread tid of process pid started, in clock ticks after boot
// (/proc/PID/task/TID/stat): tells a thread from a later one with its id.
// nullopt when /proc does not show it.
std::optional<std::uint64_t> thread_start_ticks(pid_t pid, pid_t tid);

}  // namespace pop3d::app
