// A fixed-size block of state shared by every thread and process of pop3d
// on the host: a private file in the runtime directory mapped MAP_SHARED,
// made fully initialised under a temporary name and then linked into
// place, so nobody ever maps a half-made block. When the file cannot be
// used the block lives in anonymous shared memory: still shared by threads
// and by children forked after it was made, not by separate inetd
// processes. Each block starts with a 32-bit magic and a 32-bit version.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace pop3d::shared_state {

struct Kind {
    std::uint32_t magic;
    std::uint32_t version;
    std::size_t length;
    bool (*init)(void* block);  // fills a zeroed block; map() writes magic and version after it
    const char* what;           // "a pop3d failure table", for the error text
};

// path empty: anonymous memory. `error` says why the file was not used.
// nullptr only when even anonymous memory could not be had.
void* map(const std::string& path, const Kind& kind, std::string* error);
void unmap(void* block, const Kind& kind);

// The block in the file at path, only if that file exists and passes the
// checks map() makes; never creates it, never falls back to memory. For
// the commands that look at what the running sessions share
// (pop3d who, kick, unblock). nullptr: `error` says why.
void* attach(const std::string& path, const Kind& kind, std::string* error);

// Why map() would not use the file at path (so falls back to memory), or ""
// when it would, or when there is none yet (map() makes it). Only reads:
// for pop3d -t.
std::string file_fault(const std::string& path, const Kind& kind);

// A mutex that other processes share and that a holder killed with -9
// cannot wedge.
bool init_robust_mutex(pthread_mutex_t* m);

// Locks m; when its holder died, marks it usable again (what it guarded
// may be off by that holder's unfinished step). False: not locked.
bool lock_robust(pthread_mutex_t* m);

class RobustLock {
public:
    explicit RobustLock(pthread_mutex_t* m) : m_(lock_robust(m) ? m : nullptr) {}
    ~RobustLock() {
        if (m_) ::pthread_mutex_unlock(m_);
    }
    RobustLock(const RobustLock&) = delete;
    RobustLock& operator=(const RobustLock&) = delete;
    explicit operator bool() const { return m_ != nullptr; }

private:
    pthread_mutex_t* m_;
};

}  // namespace pop3d::shared_state
