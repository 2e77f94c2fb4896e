#include "log/log.hpp"

#include "common/text.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace pop3d::log {

namespace {

enum class Sink { stderr_only, syslog, file };

std::mutex g_mutex;  // guards the fields below when they change
Sink g_sink = Sink::stderr_only;
UniqueFd g_file;
bool g_also_stderr = false;
bool g_stderr_is_journal = false;  // set with also_stderr

thread_local const Connection* t_connection = nullptr;  // the innermost ConnectionScope

int syslog_priority(Level l) {
    switch (l) {
    case Level::err: return LOG_ERR;
    case Level::warning: return LOG_WARNING;
    case Level::notice: return LOG_NOTICE;
    case Level::info: return LOG_INFO;
    case Level::debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

const char* level_name(Level l) {
    switch (l) {
    case Level::err: return "error";
    case Level::warning: return "warning";
    case Level::notice: return "notice";
    case Level::info: return "info";
    case Level::debug: return "debug";
    }
    return "info";
}

// One write() per line: O_APPEND keeps lines from several processes whole
// (a writev is one write). Pieces, not a built string: a session thread
// logs "connect" and then may idle for hours, and the strings it freed
// would wait in its malloc cache all that time.
void write_line(int fd, std::string_view head, std::string_view message) {
    iovec iov[3] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(message.data()), message.size()},
                    {const_cast<char*>("\n"), 1}};
    const ssize_t n = ::writev(fd, iov, 3);
    (void)n;
}

void write_stamped(int fd, Level level, std::string_view message) {
    char stamp[40];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char head[96];
    const int n = std::snprintf(head, sizeof head, "%s pop3d[%ld]: %s: ", stamp, static_cast<long>(::getpid()),
                                level_name(level));
    write_line(fd, std::string_view(head, n > 0 ? std::min<std::size_t>(n, sizeof head - 1) : 0), message);
}

// systemd sets JOURNAL_STREAM=DEV:INODE when it connects stderr to the
// journal; a child whose stderr was redirected keeps the variable but not
// the stream, hence the comparison.
bool stderr_is_journal() {
    const char* value = std::getenv("JOURNAL_STREAM");
    if (!value) return false;
    unsigned long long dev = 0, ino = 0;
    char end = 0;
    if (std::sscanf(value, "%llu:%llu%c", &dev, &ino, &end) != 2) return false;
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void emit(Level level, std::string_view message) {
    std::lock_guard lock(g_mutex);
    switch (g_sink) {
    case Sink::syslog:
        ::syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
        if (g_stderr_is_journal) return;  // the journal has it from syslog
        break;
    case Sink::file:
        write_stamped(g_file.get(), level, message);
        break;
    case Sink::stderr_only:
        write_line(STDERR_FILENO, "pop3d: ", message);
        return;
    }
    if (g_also_stderr) write_line(STDERR_FILENO, "pop3d: ", message);
}

}  // namespace

std::string rip_field(std::string_view address) {
    return "rip=" + (address.empty() ? std::string("unknown") : text::escape_log_field(address));
}

std::string user_field(std::string_view user) { return "user=" + text::escape_log_field(user); }

std::string Connection::text() const { return rip_field(address) + (proxy.empty() ? "" : " proxy=" + proxy); }

ConnectionScope::ConnectionScope(Connection connection) : connection_(std::move(connection)), outer_(t_connection) {
    t_connection = &connection_;
}

ConnectionScope::~ConnectionScope() { t_connection = outer_; }

int facility_from_name(std::string_view name) {
    struct F {
        std::string_view n;
        int f;
    };
    static constexpr F table[] = {
        {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"auth", LOG_AUTH},
        {"authpriv", LOG_AUTHPRIV}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
        {"local7", LOG_LOCAL7},
    };
    for (const F& f : table)
        if (f.n == name) return f.f;
    return -1;
}

void use_syslog(int facility) {
    std::lock_guard lock(g_mutex);
    ::openlog("pop3d", LOG_PID | LOG_NDELAY, facility);
    g_file.reset();
    g_sink = Sink::syslog;
}

bool use_file(const std::string& path, std::string* error) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640));
    if (!fd) {
        if (error) *error = path + ": " + text::errno_text(errno);
        return false;
    }
    std::lock_guard lock(g_mutex);
    g_file = std::move(fd);
    g_sink = Sink::file;
    return true;
}

void use_stderr() {
    std::lock_guard lock(g_mutex);
    g_file.reset();
    g_sink = Sink::stderr_only;
}

void also_stderr(bool on) {
    std::lock_guard lock(g_mutex);
    g_stderr_is_journal = on && stderr_is_journal();
    g_also_stderr = on;
}

namespace {

// A line put together on the caller's stack, moved to the heap only when
// longer: a session thread logs "connect" and may then idle for hours, and
// the strings it freed would wait in its malloc cache all that time.
class StackLine {
public:
    void append(std::string_view piece) {
        if (heap_.empty() && size_ + piece.size() <= sizeof small_) {
            std::memcpy(small_ + size_, piece.data(), piece.size());
            size_ += piece.size();
            return;
        }
        if (heap_.empty()) heap_.assign(small_, size_);
        heap_.append(piece);
    }
    std::string_view view() const { return heap_.empty() ? std::string_view(small_, size_) : heap_; }

private:
    char small_[512];
    std::size_t size_ = 0;
    std::string heap_;
};

template <class Out>
void compose(Out& line, const Event& event, std::string_view rest) {
    line.append(event.text);
    if (!rest.empty()) {
        line.append(" ");
        line.append(rest);
    }
    if (const Connection* c = t_connection) {
        if (!event.names_client) {
            line.append(" ");
            line.append(c->text());
        }
        if (!c->session.empty()) {
            line.append(" session=");
            line.append(c->session);
        }
    }
}

}  // namespace

std::string format(const Event& event, std::string_view rest) {
    std::string line;
    compose(line, event, rest);
    return line;
}

std::string format(const Event& event, const Client& client, std::string_view rest) {
    std::string fields = client.user.empty() ? "" : user_field(client.user) + " ";
    fields += rip_field(client.address);
    fields += rest;
    return format(event, fields);
}

void write(const Event& event, std::string_view rest) {
    StackLine line;
    compose(line, event, rest);
    emit(event.level, line.view());
}

void write(const Event& event, const Client& client, std::string_view rest) {
    emit(event.level, format(event, client, rest));
}

}  // namespace pop3d::log
