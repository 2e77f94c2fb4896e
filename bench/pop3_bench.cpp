// The benchmark's POP3 client: fast enough not to be the bottleneck (one
// thread writes pipelined commands, another reads and scans the answers with
// memchr), it prints "key value" lines for bench/run_bench.py.
//
//   pop3_bench mailbox PORT USER PASS   open, second open, UIDL, RETR of all (pipelined)
//   pop3_bench login PORT USER PASS N   PASS to STAT on a small mailbox (median of N)
//   pop3_bench expunge PORT USER PASS   DELE of every other message, then QUIT timed
//   pop3_bench sessions PORT PASS SECONDS USER...   one thread per user: login, STAT, QUIT
//   pop3_bench idle PORT N              N greeted connections, held until stdin closes
//   pop3_bench flood PORT PASS N USER...   N connections send PASS at once; time until all are answered
//   pop3_bench flow PORT USER PASS NEW  "leave mail on server", twice: login, UIDL, RETR of the last NEW, QUIT
//   pop3_bench retr-bulk PORT USER PASS every RETR and QUIT in one write; the answers read into one
//                                       buffer, only its tail watched (the end is the server's close)
//   pop3_bench retr-window PORT USER PASS W   RETR of all, W commands outstanding: each answer read
//                                       sends the next command (as mpop and fetchmail pipeline)
//   pop3_bench tcp-limit                one loopback TCP stream, 1 MiB writes and reads
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "pop3_bench: %s\n", why.c_str());
    std::exit(1);
}

int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        die("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die(std::string("send: ") + std::strerror(errno));
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// A buffered reader of server answers.
class Reader {
public:
    explicit Reader(int fd) : fd_(fd), buf_(1 << 20) {}

    std::string line() {  // one line without its CRLF
        for (;;) {
            if (const void* nl = std::memchr(buf_.data() + begin_, '\n', end_ - begin_)) {
                const std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nl) - (buf_.data() + begin_));
                std::string s(buf_.data() + begin_, n > 0 && buf_[begin_ + n - 1] == '\r' ? n - 1 : n);
                begin_ += n + 1;
                return s;
            }
            fill();
        }
    }

    // Skips a multi-line body up to and including the "." line (the status
    // line already read, so the body starts at a line start); returns its bytes.
    std::uint64_t skip_body() {
        std::uint64_t bytes = 0;
        char before[2] = {'\r', '\n'};  // the two bytes consumed last
        for (;;) {
            const char* p = buf_.data() + begin_;
            const char* e = buf_.data() + end_;
            const char* q = p;     // where the search goes on
            const char* stop = e;  // bytes before stop hold no terminator
            // A terminator is "\r\n.\r\n": find each '.', check around it.
            while (const void* dot = std::memchr(q, '.', static_cast<std::size_t>(e - q))) {
                const char* d = static_cast<const char*>(dot);
                if (e - d < 3) {  // the bytes after it are not here yet
                    stop = d;
                    break;
                }
                const char b2 = d - p >= 2 ? d[-2] : d - p == 1 ? before[1] : before[0];
                const char b1 = d - p >= 1 ? d[-1] : before[1];
                if (b2 == '\r' && b1 == '\n' && d[1] == '\r' && d[2] == '\n') {
                    const std::size_t n = static_cast<std::size_t>(d + 3 - p);
                    begin_ += n;
                    return bytes + n;
                }
                q = d + 1;
            }
            const std::size_t n = static_cast<std::size_t>(stop - p);
            if (n >= 2) {
                before[0] = stop[-2];
                before[1] = stop[-1];
            } else if (n == 1) {
                before[0] = before[1];
                before[1] = stop[-1];
            }
            bytes += n;
            begin_ += n;
            fill();
        }
    }

private:
    void fill() {
        if (begin_ > 0) {
            std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
        for (;;) {
            const ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) die(std::string("recv: ") + std::strerror(errno));
            if (n == 0) die("connection closed by the server");
            end_ += static_cast<std::size_t>(n);
            return;
        }
    }

    int fd_;
    std::vector<char> buf_;
    std::size_t begin_ = 0, end_ = 0;
};

std::string expect_ok(Reader& r, const char* what) {
    std::string l = r.line();
    if (l.rfind("+OK", 0) != 0) die(std::string(what) + ": " + l);
    return l;
}

struct Session {
    int fd;
    Reader r;
    explicit Session(int port) : fd(connect_to(port)), r(fd) { expect_ok(r, "greeting"); }
    ~Session() { ::close(fd); }
    std::string cmd(const std::string& c, const char* what) {
        send_all(fd, c + "\r\n");
        return expect_ok(r, what);
    }
    // USER + PASS + STAT; returns the seconds from sending PASS to the STAT answer.
    double login(const std::string& user, const std::string& pass, std::uint64_t& count, std::uint64_t& octets) {
        cmd("USER " + user, "USER");
        const auto t = Clock::now();
        send_all(fd, "PASS " + pass + "\r\n");
        expect_ok(r, "PASS");
        const std::string stat = cmd("STAT", "STAT");
        const double s = seconds_since(t);
        unsigned long long c = 0, o = 0;
        if (std::sscanf(stat.c_str(), "+OK %llu %llu", &c, &o) != 2) die("STAT: " + stat);
        count = c;
        octets = o;
        return s;
    }
};

// Sends commands from a thread of its own, so that neither side blocks the other.
std::thread pipeline(int fd, std::string commands) {
    return std::thread([fd, c = std::move(commands)] { send_all(fd, c); });
}

int mailbox(int port, const std::string& user, const std::string& pass) {
    std::uint64_t n = 0, octets = 0;
    {
        Session s(port);
        const double open = s.login(user, pass, n, octets);
        std::printf("open_s %.6f\nmessages %llu\noctets %llu\n", open, static_cast<unsigned long long>(n),
                    static_cast<unsigned long long>(octets));
        auto t = Clock::now();
        s.cmd("UIDL", "UIDL");
        std::uint64_t uidl_bytes = s.r.skip_body();
        std::printf("uidl_s %.6f\nuidl_bytes %llu\n", seconds_since(t), static_cast<unsigned long long>(uidl_bytes));
        std::string cmds;
        for (std::uint64_t i = 1; i <= n; ++i) cmds += "RETR " + std::to_string(i) + "\r\n";
        t = Clock::now();
        std::thread writer = pipeline(s.fd, std::move(cmds));
        std::uint64_t wire = 0;
        for (std::uint64_t i = 1; i <= n; ++i) {
            wire += expect_ok(s.r, "RETR").size() + 2;
            wire += s.r.skip_body();
        }
        const double retr = seconds_since(t);
        writer.join();
        std::printf("retr_s %.6f\nretr_wire_bytes %llu\n", retr, static_cast<unsigned long long>(wire));
        s.cmd("QUIT", "QUIT");
    }
    {
        Session s(port);
        const double open = s.login(user, pass, n, octets);
        std::printf("open2_s %.6f\n", open);
        s.cmd("QUIT", "QUIT");
    }
    return 0;
}

// The cost of authentication alone: PASS to STAT on a tiny mailbox, the
// median of N logins.
int login(int port, const std::string& user, const std::string& pass, int n) {
    std::vector<double> t;
    for (int i = 0; i < n; ++i) {
        Session s(port);
        std::uint64_t c = 0, o = 0;
        t.push_back(s.login(user, pass, c, o));
        s.cmd("QUIT", "QUIT");
    }
    std::sort(t.begin(), t.end());
    std::printf("login_s %.6f\nlogin_min_s %.6f\n", t[t.size() / 2], t.front());
    return 0;
}

int expunge(int port, const std::string& user, const std::string& pass) {
    Session s(port);
    std::uint64_t n = 0, octets = 0;
    s.login(user, pass, n, octets);
    std::string cmds;
    std::uint64_t dele = 0;
    for (std::uint64_t i = 1; i <= n; i += 2, ++dele) cmds += "DELE " + std::to_string(i) + "\r\n";
    std::thread writer = pipeline(s.fd, std::move(cmds));
    for (std::uint64_t i = 0; i < dele; ++i) expect_ok(s.r, "DELE");
    writer.join();
    const auto t = Clock::now();
    s.cmd("QUIT", "QUIT");
    std::printf("expunge_s %.6f\ndeleted %llu\n", seconds_since(t), static_cast<unsigned long long>(dele));
    return 0;
}

int sessions(int port, const std::string& pass, double secs, const std::vector<std::string>& users) {
    std::atomic<std::uint64_t> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (const std::string& u : users)
        threads.emplace_back([&, u] {
            while (!stop.load(std::memory_order_relaxed)) {
                Session s(port);
                std::uint64_t n = 0, o = 0;
                s.login(u, pass, n, o);
                s.cmd("QUIT", "QUIT");
                done.fetch_add(1, std::memory_order_relaxed);
            }
        });
    const auto t = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    const std::uint64_t counted = done.load();
    const double elapsed = seconds_since(t);
    stop = true;
    for (auto& th : threads) th.join();
    std::printf("sessions %llu\nsessions_per_s %.1f\n", static_cast<unsigned long long>(counted), counted / elapsed);
    return 0;
}

int flood(int port, const std::string& pass, int n, const std::vector<std::string>& users) {
    std::vector<std::unique_ptr<Session>> ss;
    for (int i = 0; i < n; ++i) {
        ss.push_back(std::make_unique<Session>(port));
        ss.back()->cmd("USER " + users[static_cast<std::size_t>(i) % users.size()], "USER");
    }
    std::printf("ready %d\n", n);
    std::fflush(stdout);
    const auto t = Clock::now();
    for (auto& s : ss) send_all(s->fd, "PASS " + pass + "\r\n");
    int ok = 0;
    for (auto& s : ss)  // the last answer read is the last one given, whatever the order
        if (s->r.line().rfind("+OK", 0) == 0) ++ok;
    std::printf("flood_s %.6f\nflood_ok %d\n", seconds_since(t), ok);
    return 0;
}

int idle(int port, int n) {
    std::vector<int> fds;
    std::vector<char> greet(512);
    for (int i = 0; i < n; ++i) {
        const int fd = connect_to(port);
        fds.push_back(fd);
    }
    for (int fd : fds)  // every one greeted: its thread or process is up
        if (::recv(fd, greet.data(), greet.size(), 0) <= 0 || greet[0] != '+') die("idle: no greeting");
    std::printf("ready %d\n", n);
    std::fflush(stdout);
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    for (int fd : fds) ::close(fd);
    return 0;
}

// What Thunderbird, Outlook, mpop and fetchmail --keep do every few minutes:
// log in, UIDL, fetch the messages they have not seen (here the last NEW),
// QUIT. Prints the time from PASS to the end of the UIDL listing and the
// whole flow's (connect to the QUIT answer), for a first and a repeated
// session.
int flow(int port, const std::string& user, const std::string& pass, std::uint64_t fresh) {
    for (const char* round : {"", "2"}) {
        const auto start = Clock::now();
        Session s(port);
        s.cmd("USER " + user, "USER");
        const auto t = Clock::now();
        send_all(s.fd, "PASS " + pass + "\r\nUIDL\r\n");
        expect_ok(s.r, "PASS");
        expect_ok(s.r, "UIDL");
        std::uint64_t n = 0;
        for (std::string l; (l = s.r.line()) != ".";) ++n;
        const double uidl = seconds_since(t);
        std::string cmds;
        for (std::uint64_t i = n > fresh ? n - fresh + 1 : 1; i <= n; ++i) cmds += "RETR " + std::to_string(i) + "\r\n";
        cmds += "QUIT\r\n";
        send_all(s.fd, cmds);
        for (std::uint64_t i = n > fresh ? n - fresh + 1 : 1; i <= n; ++i) {
            expect_ok(s.r, "RETR");
            s.r.skip_body();
        }
        expect_ok(s.r, "QUIT");
        std::printf("flow%s_uidl_s %.6f\nflow%s_s %.6f\n", round, uidl, round, seconds_since(start));
    }
    return 0;
}

// A client that pipelines the way a bulk downloader does: every RETR (and
// QUIT) in one write before it reads, then recv into one large buffer,
// looking only at whether the connection has ended.
int retr_bulk(int port, const std::string& user, const std::string& pass) {
    Session s(port);
    std::uint64_t n = 0, octets = 0;
    s.login(user, pass, n, octets);
    std::string cmds;
    for (std::uint64_t i = 1; i <= n; ++i) cmds += "RETR " + std::to_string(i) + "\r\n";
    cmds += "QUIT\r\n";
    const auto t = Clock::now();
    std::thread writer = pipeline(s.fd, std::move(cmds));
    std::vector<char> buf(8 << 20);
    std::uint64_t got = 0;
    for (ssize_t k; (k = ::recv(s.fd, buf.data(), buf.size(), 0)) != 0;) {
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) die(std::string("recv: ") + std::strerror(errno));
        got += static_cast<std::uint64_t>(k);
    }
    const double secs = seconds_since(t);
    writer.join();
    std::printf("retr_bulk_s %.6f\nretr_bulk_bytes %llu\n", secs, static_cast<unsigned long long>(got));
    return 0;
}

// The pipelining of mail clients that keep a window of W commands in
// flight: one write per command, sent as an earlier answer completes.
int retr_window(int port, const std::string& user, const std::string& pass, std::uint64_t window) {
    Session s(port);
    std::uint64_t n = 0, octets = 0;
    s.login(user, pass, n, octets);
    const auto t = Clock::now();
    std::uint64_t sent = 0, wire = 0;
    for (; sent < std::min(window, n); ++sent) send_all(s.fd, "RETR " + std::to_string(sent + 1) + "\r\n");
    for (std::uint64_t i = 1; i <= n; ++i) {
        wire += expect_ok(s.r, "RETR").size() + 2;
        wire += s.r.skip_body();
        if (sent < n) send_all(s.fd, "RETR " + std::to_string(++sent) + "\r\n");
    }
    const double secs = seconds_since(t);
    s.cmd("QUIT", "QUIT");
    std::printf("retr_window_s %.6f\nretr_window_bytes %llu\n", secs, static_cast<unsigned long long>(wire));
    return 0;
}

int tcp_limit() {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        die("tcp-limit: cannot listen");
    constexpr std::uint64_t kTotal = 4ull << 30;
    std::thread sender([l] {
        const int c = ::accept(l, nullptr, nullptr);
        std::vector<char> block(1 << 20, 'x');
        for (std::uint64_t sent = 0; sent < kTotal; sent += block.size()) send_all(c, {block.data(), block.size()});
        ::close(c);
    });
    const int fd = connect_to(ntohs(a.sin_port));
    std::vector<char> buf(1 << 20);
    const auto t = Clock::now();
    std::uint64_t got = 0;
    for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) got += static_cast<std::uint64_t>(n);
    const double s = seconds_since(t);
    sender.join();
    ::close(fd);
    ::close(l);
    std::printf("tcp_bytes %llu\ntcp_s %.6f\n", static_cast<unsigned long long>(got), s);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 4 && a[0] == "mailbox") return mailbox(std::atoi(a[1].c_str()), a[2], a[3]);
    if (a.size() == 5 && a[0] == "login")
        return login(std::atoi(a[1].c_str()), a[2], a[3], std::max(1, std::atoi(a[4].c_str())));
    if (a.size() == 4 && a[0] == "expunge") return expunge(std::atoi(a[1].c_str()), a[2], a[3]);
    if (a.size() >= 5 && a[0] == "sessions")
        return sessions(std::atoi(a[1].c_str()), a[2], std::atof(a[3].c_str()), {a.begin() + 4, a.end()});
    if (a.size() == 3 && a[0] == "idle") return idle(std::atoi(a[1].c_str()), std::atoi(a[2].c_str()));
    if (a.size() >= 5 && a[0] == "flood")
        return flood(std::atoi(a[1].c_str()), a[2], std::max(1, std::atoi(a[3].c_str())), {a.begin() + 4, a.end()});
    if (a.size() == 5 && a[0] == "flow")
        return flow(std::atoi(a[1].c_str()), a[2], a[3], std::strtoull(a[4].c_str(), nullptr, 10));
    if (a.size() == 4 && a[0] == "retr-bulk") return retr_bulk(std::atoi(a[1].c_str()), a[2], a[3]);
    if (a.size() == 5 && a[0] == "retr-window")
        return retr_window(std::atoi(a[1].c_str()), a[2], a[3], std::max(1ull, std::strtoull(a[4].c_str(), nullptr, 10)));
    if (a.size() == 1 && a[0] == "tcp-limit") return tcp_limit();
    std::fprintf(stderr,
                 "usage: pop3_bench mailbox|expunge PORT USER PASS | login PORT USER PASS N | sessions PORT PASS SECONDS USER... |"
                 " idle PORT N | flood PORT PASS N USER... | flow PORT USER PASS NEW | retr-bulk PORT USER PASS |"
                 " retr-window PORT USER PASS W | tcp-limit\n");
    return 2;
}
