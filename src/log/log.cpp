#include "log/log.hpp"

#include "common/text.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace pop3d::log {

namespace {

enum class Sink { stderr_only, syslog, file };

std::mutex g_mutex;  // guards the fields below when they change
Sink g_sink = Sink::stderr_only;
UniqueFd g_file;
std::atomic<bool> g_also_stderr{false};

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

std::string stamped_line(Level level, std::string_view message) {
    char stamp[40];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::string line = stamp;
    line += " pop3d[" + std::to_string(::getpid()) + "]: ";
    line += level_name(level);
    line += ": ";
    line += message;
    line += '\n';
    return line;
}

void write_all(int fd, const std::string& s) {
    // One write() per line: O_APPEND keeps lines from several processes whole.
    const ssize_t n = ::write(fd, s.data(), s.size());
    (void)n;
}

}  // namespace

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

void also_stderr(bool on) { g_also_stderr = on; }

void write(Level level, std::string_view message) {
    std::lock_guard lock(g_mutex);
    switch (g_sink) {
    case Sink::syslog:
        ::syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
        break;
    case Sink::file:
        write_all(g_file.get(), stamped_line(level, message));
        break;
    case Sink::stderr_only:
        write_all(STDERR_FILENO, "pop3d: " + std::string(message) + "\n");
        return;
    }
    if (g_also_stderr) write_all(STDERR_FILENO, "pop3d: " + std::string(message) + "\n");
}

}  // namespace pop3d::log
