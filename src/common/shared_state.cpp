#include "common/shared_state.hpp"

#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pop3d::shared_state {

namespace {

struct Header {
    std::uint32_t magic;
    std::uint32_t version;
};

// The block's own fields first, the header last: a block with the right
// header is a ready one.
bool init_block(void* p, const Kind& kind) {
    if (!kind.init(p)) return false;
    *static_cast<Header*>(p) = Header{kind.magic, kind.version};
    return true;
}

void* map_fd(int fd, std::size_t length) {
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? nullptr : p;
}

bool create_file(const std::string& path, const Kind& kind, std::string* error) {
    std::string tmp = path + ".XXXXXX";
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd) {
        *error = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd.get(), 0600) == 0 && ::ftruncate(fd.get(), static_cast<off_t>(kind.length)) == 0;
    if (ok) {
        void* p = map_fd(fd.get(), kind.length);
        ok = p && init_block(p, kind);
        if (p) ::munmap(p, kind.length);
    }
    ok = ok && (::link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST);  // EEXIST: another process won
    if (!ok) *error = "cannot create " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return ok;
}

// The checks map() makes on the open file before mapping it.
std::string stat_fault(int fd, const std::string& path, const Kind& kind) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0 ||
        static_cast<std::size_t>(st.st_size) != kind.length)
        return path + " is not a private regular file of the right size (remove it)";
    return {};
}

bool header_matches(const Header& h, const Kind& kind) { return h.magic == kind.magic && h.version == kind.version; }

std::string not_kind(const std::string& path, const Kind& kind) {
    return path + " is not " + kind.what + " (remove it)";
}

}  // namespace

std::string file_fault(const std::string& path, const Kind& kind) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) return errno == ENOENT ? "" : "cannot open " + path + ": " + std::strerror(errno);
    if (std::string fault = stat_fault(fd.get(), path, kind); !fault.empty()) return fault;
    Header h{};
    if (::pread(fd.get(), &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) || !header_matches(h, kind))
        return not_kind(path, kind);
    return {};
}

void* map(const std::string& path, const Kind& kind, std::string* error) {
    if (!path.empty()) {
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        if (!fd && errno == ENOENT && create_file(path, kind, error))
            fd.reset(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        if (!fd) {
            if (error->empty()) *error = "cannot open " + path + ": " + std::strerror(errno);
        } else if (std::string fault = stat_fault(fd.get(), path, kind); !fault.empty()) {
            *error = std::move(fault);
        } else if (void* p = map_fd(fd.get(), kind.length)) {
            if (header_matches(*static_cast<const Header*>(p), kind)) return p;
            ::munmap(p, kind.length);
            *error = not_kind(path, kind);
        } else {
            *error = "cannot map " + path + ": " + std::strerror(errno);
        }
    }
    void* p = ::mmap(nullptr, kind.length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    if (!init_block(p, kind)) {
        ::munmap(p, kind.length);
        return nullptr;
    }
    return p;
}

void* attach(const std::string& path, const Kind& kind, std::string* error) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        *error = "cannot open " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    if (std::string fault = stat_fault(fd.get(), path, kind); !fault.empty()) {
        *error = std::move(fault);
        return nullptr;
    }
    void* p = map_fd(fd.get(), kind.length);
    if (!p) {
        *error = "cannot map " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    if (header_matches(*static_cast<const Header*>(p), kind)) return p;
    ::munmap(p, kind.length);
    *error = not_kind(path, kind);
    return nullptr;
}

void unmap(void* block, const Kind& kind) {
    if (block) ::munmap(block, kind.length);
}

bool init_robust_mutex(pthread_mutex_t* m) {
    pthread_mutexattr_t attr;
    ::pthread_mutexattr_init(&attr);
    ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    const bool ok = ::pthread_mutex_init(m, &attr) == 0;
    ::pthread_mutexattr_destroy(&attr);
    return ok;
}

bool lock_robust(pthread_mutex_t* m) {
    int rc = ::pthread_mutex_lock(m);
    if (rc == EOWNERDEAD) rc = ::pthread_mutex_consistent(m);
    return rc == 0;
}

}  // namespace pop3d::shared_state
