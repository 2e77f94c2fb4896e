#include "mailbox/mailbox_lock.hpp"

#include "common/filesystem_kind.hpp"
#include "common/text.hpp"
#include "common/unique_fd.hpp"
#include "log/events.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <thread>

namespace pop3d::mailbox {

namespace {

enum class Try { locked, busy, broke_stale, failed_perm, failed_temp };

std::atomic<unsigned> g_counter{0};

bool is_permission_error(int e) {
    return e == EACCES || e == EPERM || e == EROFS || e == ENOENT || e == ENOTDIR || e == ELOOP;
}

// The pid written in a dotlock ("1234\n", liblockfile's and ours), or 0 when
// there is none (procmail writes none).
pid_t lock_owner(const std::string& lock_path) {
    UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) return 0;
    char buf[32];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return 0;
    const auto pid = text::parse_u64(text::trim(std::string_view(buf, static_cast<std::size_t>(n))));
    return pid && *pid > 1 && *pid < 0x7fffffff ? static_cast<pid_t>(*pid) : 0;
}

// A dotlock is stale when it is older than stale_age, or (check_pid) when
// the process it names is gone. EPERM from kill() means it is alive. On a
// shared filesystem the pid may be another host's: only age counts there.
bool stale_dotlock(const std::string& lock_path, const LockSettings& settings, std::string& why) {
    struct stat held {};
    if (::lstat(lock_path.c_str(), &held) != 0) return false;
    const std::time_t age = std::time(nullptr) - held.st_mtime;
    if (age > settings.stale_age.count()) {
        why = std::to_string(age) + " s old";
        return true;
    }
    if (settings.check_pid && !on_shared_filesystem(text::parent_of(lock_path))) {
        const pid_t pid = lock_owner(lock_path);
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
            why = "its process " + std::to_string(pid) + " is gone";
            return true;
        }
    }
    return false;
}

// One attempt at the dotlock. On success sets dev/ino of the lock file.
Try try_dotlock(const std::string& lock_path, const LockSettings& settings, dev_t& dev, ino_t& ino,
                std::string& error) {
    SpoolPrivilege* privilege = settings.privilege;
    const std::string tmp = lock_path + "." + std::to_string(::getpid()) + "." + std::to_string(::gettid()) + "." +
                            std::to_string(g_counter.fetch_add(1));
    PrivilegeScope scope(privilege);
    if (!scope.ok()) {
        error = "cannot switch to the mail group";
        return Try::failed_perm;
    }
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644));
    if (!fd) {
        const int e = errno;
        error = "cannot create " + tmp + ": " + text::errno_text(e);
        return is_permission_error(e) ? Try::failed_perm : Try::failed_temp;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    const bool wrote = ::write(fd.get(), pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
    fd.reset();
    if (!wrote) {
        ::unlink(tmp.c_str());
        error = "cannot write " + tmp;
        return Try::failed_temp;
    }
    // link() may report failure after succeeding over NFS: trust the link count.
    if (::link(tmp.c_str(), lock_path.c_str()) != 0) {
        // EEXIST is the usual "held"; other errors show in the link count too.
    }
    struct stat st {};
    const bool ok = ::stat(tmp.c_str(), &st) == 0 && st.st_nlink == 2;
    ::unlink(tmp.c_str());
    if (ok) {
        dev = st.st_dev;
        ino = st.st_ino;
        return Try::locked;
    }
    // Held by someone else: break it only by the rules.
    std::string why;
    if (stale_dotlock(lock_path, settings, why) && ::unlink(lock_path.c_str()) == 0) {
        log::write(log::event::stale_lock_removed, lock_path + " (" + why + ")");
        return Try::broke_stale;
    }
    return Try::busy;
}

bool ofd_lock(int fd, short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    return ::fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

void remove_dotlock(const std::string& lock_path, dev_t dev, ino_t ino, SpoolPrivilege* privilege) {
    // Best effort: without the group the unlink may fail, and the dotlock
    // is then left for the next taker to find stale.
    const PrivilegeScope scope(privilege);
    struct stat st {};
    // Remove it only if it is still the file we created.
    if (::lstat(lock_path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino) ::unlink(lock_path.c_str());
}

}  // namespace

std::unique_ptr<MailboxLock> MailboxLock::acquire(int fd, const std::string& mailbox_path, bool write,
                                                  const LockSettings& settings, Result& result) {
    const std::string lock_path = mailbox_path + ".lock";
    const auto deadline = std::chrono::steady_clock::now() + settings.timeout;
    auto backoff = std::chrono::milliseconds(20);
    std::string error;
    int stale_breaks = 0;
    for (;;) {
        dev_t dev = 0;
        ino_t ino = 0;
        const Try t = try_dotlock(lock_path, settings, dev, ino, error);
        if (t == Try::failed_perm) {
            result = {Status::perm_fail, error};
            return nullptr;
        }
        if (t == Try::failed_temp) {
            result = {Status::temp_fail, error};
            return nullptr;
        }
        if (t == Try::locked) {
            if (ofd_lock(fd, write ? F_WRLCK : F_RDLCK)) {
                result = Result::good();
                return std::make_unique<MailboxLock>(Key{}, fd, lock_path, dev, ino, settings.privilege);
            }
            if (errno != EAGAIN && errno != EACCES) {
                result = {Status::temp_fail, "fcntl lock on " + mailbox_path + ": " + text::errno_text(errno)};
                remove_dotlock(lock_path, dev, ino, settings.privilege);
                return nullptr;
            }
            remove_dotlock(lock_path, dev, ino, settings.privilege);
        }
        if (t == Try::broke_stale && ++stale_breaks <= 3) continue;  // try again at once
        if (std::chrono::steady_clock::now() + backoff > deadline) break;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
    result = {Status::in_use, mailbox_path + " is locked by another program"};
    return nullptr;
}

MailboxLock::~MailboxLock() {
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    ::fcntl(fd_, F_OFD_SETLK, &fl);
    remove_dotlock(lock_path_, dev_, ino_, privilege_);
}

void MailboxLock::touch() {
    const PrivilegeScope scope(privilege_);  // best effort, as in remove_dotlock
    ::utimensat(AT_FDCWD, lock_path_.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
}

}  // namespace pop3d::mailbox
