"""The standalone daemon: detaching, addresses, limits, timeouts, reload,
shutdown, sd_notify and accept() failures."""

import os
import resource
import signal
import socket
import subprocess
import threading
import time
import unittest

from fixtures import simple
from harness import (IS_ROOT, POP3D, SANITIZED, Env, EnvTestCase, Raw, USERS, free_port, mbox_message,
                     proc_status_kib, unstuff, wait_for)



def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= n


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DaemonProcessTest(unittest.TestCase):
    """Things that need their own daemon per test."""

    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        self.env.write_mailbox("alice", simple(2))

    def daemon(self, *args, env_extra=None, wait=True):
        env = {**self.env.environment(), **(env_extra or {})}
        return subprocess.run([POP3D, "-c", self.env.conf, *args], env=env, capture_output=True, text=True,
                              timeout=30) if wait else subprocess.Popen(
            [POP3D, "-c", self.env.conf, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)

    def test_detaches_writes_pid_file_and_stops_on_sigterm(self):
        port = free_port()
        pid_file = os.path.join(self.env.dir, "pop3d.pid")
        r = self.daemon("-l", f"127.0.0.1:{port}", "-o", f"pid_file={pid_file}")
        self.assertEqual(r.returncode, 0, r.stderr)  # the parent returns at once
        self.assertTrue(wait_for(lambda: os.path.exists(pid_file) and os.path.getsize(pid_file) > 0))
        with open(pid_file) as f:
            pid = int(f.read())
        self.addCleanup(lambda: subprocess.run(["kill", "-9", str(pid)], capture_output=True))
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        self.assertEqual(int(stat[3]), pid)  # session leader: setsid() happened
        self.assertEqual(os.readlink(f"/proc/{pid}/cwd"), "/")
        c = Raw(port)
        self.assertTrue(c.login().startswith(b"+OK"))
        c.cmd("QUIT")
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: not os.path.exists(f"/proc/{pid}")))
        self.assertFalse(os.path.exists(pid_file))
        self.assertIn("stopped", self.env.log_text())

    def test_unusable_addresses_are_reported(self):
        r = self.daemon("-f", "-l", "999.1.2.3:110")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a numeric IPv4 address", r.stderr)
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            r = self.daemon("-f", "-l", f"127.0.0.1:{port}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"cannot listen: 127.0.0.1:{port}: Address already in use", r.stderr)

    def test_star_listens_on_both_families(self):
        if not socket.has_ipv6 or not os.path.exists("/proc/net/if_inet6"):
            self.skipTest("no IPv6 on this host")
        port = free_port()
        p = self.daemon("-f", "-l", f"*:{port}", wait=False)
        self.addCleanup(p.kill)
        self.assertTrue(wait_for(lambda: "listening on" in self.env.log_text()))
        self.assertIn(f"listening on [::]:{port} 0.0.0.0:{port}", self.env.log_text())
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            with socket.socket(family) as s:
                s.settimeout(5)
                s.connect((host, port))
                self.assertTrue(s.recv(100).startswith(b"+OK"))
        self.assertIn("rip=::1", self.env.log_text())

    def test_ipv6_only_address(self):
        if not os.path.exists("/proc/net/if_inet6"):
            self.skipTest("no IPv6 on this host")
        port = free_port()
        p = self.daemon("-f", "-l", f"[::1]:{port}", wait=False)
        self.addCleanup(p.kill)
        self.assertTrue(wait_for(lambda: "listening on" in self.env.log_text()))
        with socket.create_connection(("::1", port), timeout=5) as s:
            self.assertTrue(s.recv(100).startswith(b"+OK"))
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)

    def notify_test(self, address, bind_to):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(bind_to)
        sock.settimeout(10)
        self.addCleanup(sock.close)
        port = free_port()
        p = self.daemon("-f", "-l", f"127.0.0.1:{port}", env_extra={"NOTIFY_SOCKET": address}, wait=False)
        self.addCleanup(p.kill)
        messages = [sock.recv(4096).decode()]
        self.assertEqual(messages[0], "READY=1")
        messages.append(sock.recv(4096).decode())
        self.assertEqual(messages[1], "STATUS=0 connections")
        c = Raw(port)
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertEqual(sock.recv(4096).decode(), "STATUS=1 connection")
        c.close()
        os.kill(p.pid, signal.SIGTERM)
        rest = []
        while True:
            m = sock.recv(4096).decode()
            rest.append(m)
            if m == "STOPPING=1":
                break
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertIn("pop3d: listening on", p.stderr.read())  # -f logs to stderr too

    def test_sd_notify_path_socket(self):
        path = os.path.join(self.env.dir, "notify")
        self.notify_test(path, path)

    def test_sd_notify_abstract_socket(self):
        name = f"pop3d-test-{os.getpid()}-{time.monotonic_ns()}"
        self.notify_test("@" + name, "\0" + name)

    def test_accept_failures_back_off_without_spinning(self):
        if SANITIZED:
            self.skipTest("the sanitizer runtime needs the file descriptors this test takes away")
        port = free_port()
        env = {**self.env.environment()}
        # A daemon with very few fds: accept() fails with EMFILE.
        p = subprocess.Popen(["sh", "-c", f"ulimit -n 24; exec '{POP3D}' -f -c '{self.env.conf}' -l 127.0.0.1:{port}"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(p.kill)
        self.assertTrue(wait_for(lambda: "listening on" in self.env.log_text()))
        socks = []
        for _ in range(40):
            s = socket.socket()
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        self.assertTrue(wait_for(lambda: "pausing new connections" in self.env.log_text()))
        before = cpu_seconds(p.pid)
        time.sleep(2)
        self.assertLess(cpu_seconds(p.pid) - before, 0.5, "the accept loop spins")
        self.assertEqual(self.env.log_text().count("pausing new connections"), 1)  # logged once
        for s in socks:
            s.close()
        c = Raw(port)  # serving again once fds are free
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertIsNone(p.poll())


class LimitTest(EnvTestCase):
    launcher = "threads"
    config = {"max_connections": "4", "max_connections_per_address": "3"}

    def test_per_address_and_total_limits(self):
        held = [self.connect() for _ in range(3)]
        c = Raw(self.env.port)
        self.assertEqual(c.greeting, b"-ERR [SYS/TEMP] too many connections from your address, try again later")
        self.assertEqual(c.read_to_eof(), b"")
        for _ in range(5):  # more refusals: one log line per 10 s
            Raw(self.env.port).read_to_eof()
        self.assertTrue(wait_for(lambda: "refused rip=127.0.0.1 reason=max_connections_per_address (3)"
                                 in self.env.log_text()))
        time.sleep(0.2)
        self.assertEqual(self.env.log_text().count("reason=max_connections_per_address"), 1)
        held[0].close()
        self.assertTrue(wait_for(lambda: Raw(self.env.port).greeting.startswith(b"+OK")))

    def test_total_limit(self):
        self.env.write_config(max_connections="2", max_connections_per_address="10")
        held = [self.connect() for _ in range(2)]
        c = Raw(self.env.port)
        self.assertEqual(c.greeting, b"-ERR [SYS/TEMP] too many connections, try again later")
        self.assertTrue(wait_for(lambda: "refused rip=127.0.0.1 reason=max_connections (2)" in self.env.log_text()))
        for h in held:
            h.close()
        self.env.write_config(max_connections="4", max_connections_per_address="3")


class DaemonTimeoutTest(EnvTestCase):
    launcher = "threads"
    config = {"idle_timeout": "2", "login_timeout": "2"}

    def test_silent_connection_is_closed_by_the_login_timeout(self):
        c = self.connect()
        start = time.monotonic()
        self.assertEqual(c.read_to_eof(), b"")
        self.assertLess(time.monotonic() - start, 5)

    def test_idle_timeout_deletes_nothing(self):
        data = simple(3)
        self.env.write_mailbox("alice", data)
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        self.assertEqual(c.read_to_eof(), b"")
        self.assertEqual(self.env.read_mailbox("alice"), data)
        self.assertIn("reason=timeout", self.env.log_text())


class ReloadTest(EnvTestCase):
    launcher = "threads"

    def test_sighup_applies_to_new_connections_and_keeps_old_config_on_errors(self):
        self.env.write_mailbox("alice", simple(1))
        early = self.connect()
        self.assertTrue(early.login().startswith(b"+OK"))
        with open(self.env.conf, "a") as f:
            f.write("max_connections_per_address = 1\n")
        os.kill(self.env.daemon_pid(), signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "configuration reloaded" in self.env.log_text()))
        # The early session counts: a new one from the same address is refused now.
        self.assertTrue(Raw(self.env.port).greeting.startswith(b"-ERR [SYS/TEMP] too many connections"))
        self.assertEqual(early.cmd("NOOP"), b"+OK")
        with open(self.env.conf, "a") as f:
            f.write("bogus = 1\n")
        os.kill(self.env.daemon_pid(), signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "reload failed; keeping the previous configuration" in self.env.log_text()))
        self.assertIn("unknown key 'bogus'", self.env.log_text())
        early.cmd("QUIT")
        self.assertTrue(wait_for(lambda: Raw(self.env.port).greeting.startswith(b"+OK")))


class ConcurrentLoginTest(EnvTestCase):
    """PAM runs in the session threads: a slow or failing login never delays
    another one."""
    launcher = "threads"
    config = {"login_fail_delay": "2"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        exec_ = next((p for p in ("/usr/lib/x86_64-linux-gnu/security/pam_exec.so",
                                  "/lib/x86_64-linux-gnu/security/pam_exec.so") if os.path.exists(p)), None)
        if not exec_:
            raise unittest.SkipTest("pam_exec.so not found")
        script = os.path.join(cls.env.dir, "slow-for-bob")
        with open(script, "w") as f:
            f.write('#!/bin/sh\n[ "$PAM_USER" = bob ] && sleep 3\nexit 0\n')
        os.chmod(script, 0o755)
        with open(os.path.join(cls.env.pam_dir, "pop3")) as f:
            stack = f.read()
        with open(os.path.join(cls.env.pam_dir, "pop3"), "w") as f:
            f.write(f"auth optional {exec_} quiet {script}\n" + stack)
        cls.env.stop()  # pam_wrapper copies the service files when the daemon starts
        cls.env.start()

    def timed(self, fn):
        start = time.monotonic()
        result = fn()
        return result, time.monotonic() - start

    def test_slow_pam_module_delays_only_its_own_login(self):
        for u in ("alice", "bob"):
            self.env.write_mailbox(u, simple(1, u))
        results = {}
        slow = threading.Thread(target=lambda: results.update(bob=self.timed(lambda: Raw(self.env.port).login("bob"))))
        slow.start()
        time.sleep(0.3)  # bob is inside PAM now
        reply, elapsed = self.timed(lambda: Raw(self.env.port).login("alice"))
        slow.join()
        self.assertTrue(reply.startswith(b"+OK"))
        self.assertLess(elapsed, 1.0)
        self.assertTrue(results["bob"][0].startswith(b"+OK"))
        self.assertGreaterEqual(results["bob"][1], 2.9)

    def test_failed_login_delay_sleeps_only_its_own_thread(self):
        self.env.write_mailbox("alice", simple(1))
        results = {}

        def fail():
            c = Raw(self.env.port)
            c.cmd("USER carol")
            results["fail"] = self.timed(lambda: c.cmd("PASS wrong"))

        t = threading.Thread(target=fail)
        t.start()
        time.sleep(0.3)
        reply, elapsed = self.timed(lambda: Raw(self.env.port).login("alice"))
        t.join()
        self.assertTrue(reply.startswith(b"+OK"))
        self.assertLess(elapsed, 1.0)
        self.assertEqual(results["fail"][0], b"-ERR [AUTH] authentication failed")
        self.assertGreaterEqual(results["fail"][1], 1.9)


class SessionMemoryTest(EnvTestCase):
    """Logged-in idle sessions keep little memory, even after a PAM module
    that used half a megabyte of stack (the pages are given back)."""
    launcher = "threads"

    def test_logged_in_sessions_stay_small(self):
        if SANITIZED:
            self.skipTest("memory figures mean nothing under a sanitizer")
        from test_auth import BIGSTACK, service_passdb
        from harness import PAM_MATRIX
        if not os.path.exists(BIGSTACK):
            self.skipTest("build/tests/pam_bigstack.so not built")
        passdb = service_passdb(self.env, "pop3-mem")
        with open(os.path.join(self.env.pam_dir, "pop3-mem"), "w") as f:
            f.write(f"auth optional {BIGSTACK}\nauth required {PAM_MATRIX} passdb={passdb}\n"
                    f"account required {PAM_MATRIX} passdb={passdb}\n")
        self.env.write_config(pam_service="pop3-mem", max_connections_per_address="100")
        def rss_kib():
            return proc_status_kib(self.env.daemon_pid(), "VmRSS")

        before = rss_kib()
        held = []
        for u in ["alice", "bob", "carol"]:
            self.env.write_mailbox(u, simple(3, u))
            c = Raw(self.env.port)
            self.assertTrue(c.login(u).startswith(b"+OK"))
            held.append(c)
        for i in range(17):
            c = Raw(self.env.port)
            c.cmd("USER alice")
            c.cmd("PASS wrong")  # PAM ran, deep stack and all
            held.append(c)
        time.sleep(0.3)
        per_session = (rss_kib() - before) / len(held)
        self.assertLess(per_session, 128, f"{per_session:.0f} KiB per session")


class ShutdownTest(unittest.TestCase):
    """SIGTERM with 50 active sessions: no mail lost, no half-done expunge."""
    launchers = ("threads", "fork")

    def run_shutdown(self, model):
        users = [f"user{i:02d}" for i in range(50)]
        for u in users:
            USERS[u] = (f"pw-{u}", 6000 + int(u[4:]))
        self.addCleanup(lambda: [USERS.pop(u) for u in users])
        env = Env(config={"shutdown_grace": "20", "max_connections_per_address": "100"})
        self.addCleanup(env.close)
        messages = {u: [mbox_message(f"s{i}@x", f"Thu Nov 26 10:00:{i:02d} 2026", [f"Subject: {u} {i}"],
                                     b"body %d\n" % i) for i in range(4)] for u in users}
        for u in users:
            env.write_mailbox(u, b"".join(messages[u]))
        env.start(model)
        clients = {}
        for u in users:
            c = Raw(env.port, timeout=30)
            self.assertTrue(c.login(u).startswith(b"+OK"), u)
            c.cmd("DELE 2")
            clients[u] = c
        quitters = users[:25]  # these send QUIT together with the shutdown
        for u in quitters:
            clients[u].send("QUIT\r\n")
        os.kill(env.daemon_pid(), signal.SIGTERM)
        self.assertEqual(env.server.wait(timeout=30), 0)
        env.server = None
        for u in users:
            data = env.read_mailbox(u)
            try:
                reply = clients[u].line()
            except (EOFError, OSError):
                reply = b""
            if reply.startswith(b"+OK pop3d signing off"):
                expected = messages[u][0] + messages[u][2] + messages[u][3]
            else:
                expected = b"".join(messages[u])  # closed without UPDATE
                self.assertNotIn(u, quitters[:0])
            self.assertEqual(data, expected, u)
        self.assertIn("shutting down", env.log_text())
        self.assertIn("stopped", env.log_text())

    def test_threads(self):
        self.run_shutdown("threads")

    def test_fork(self):
        self.run_shutdown("fork")


class LoadTest(unittest.TestCase):
    """1,000 connections held open while 100 logins across several users complete."""

    def run_load(self, model, idle):
        if not raise_fd_limit(idle + 500):
            self.skipTest(f"cannot raise the fd limit to {idle + 500}")
        # PAM through pam_confdir: under this load in the fork model, pam_wrapper
        # (one /tmp/pam.X directory for the daemon and all its children) has
        # failed a login twice in CI ("PAM: Permission denied", and a closed
        # connection) where nothing in pop3d's log showed a fault.
        env = Env(config={"max_connections": str(idle + 200), "max_connections_per_address": str(idle + 200)},
                  pam_mode="confdir")
        self.addCleanup(env.close)
        for u in ("alice", "bob", "carol"):
            env.write_mailbox(u, simple(5, u))
        env.start(model)
        held = []
        for _ in range(idle):
            s = socket.create_connection(("127.0.0.1", env.port), timeout=30)
            held.append(s)
        self.addCleanup(lambda: [s.close() for s in held])
        for s in held[-10:]:  # they are all being served
            self.assertTrue(s.recv(100).startswith(b"+OK"))
        errors, times = [], []

        def worker(user, n):
            try:
                for _ in range(n):
                    start = time.monotonic()
                    c = Raw(env.port, timeout=30)
                    r = c.login(user)
                    while r.startswith(b"-ERR [IN-USE]"):  # another worker has this maildrop open
                        c.close()
                        time.sleep(0.01)
                        c = Raw(env.port, timeout=30)
                        r = c.login(user)
                    if not r.startswith(b"+OK maildrop has 5 messages"):
                        errors.append(r)
                    c.cmd("STAT")
                    c.cmd("QUIT")
                    c.close()
                    times.append(time.monotonic() - start)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(u, 34 if u != "carol" else 32))
                   for u in ("alice", "bob", "carol")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [], "\n".join(l for l in env.log_text().splitlines() if "fail" in l or "rror" in l or "cannot" in l or "refused" in l or "warn" in l))
        self.assertEqual(len(times), 100)

    def test_threads_1000_idle(self):
        self.run_load("threads", 1000)

    def test_fork_300_idle(self):
        self.run_load("fork", 300)


if __name__ == "__main__":
    unittest.main()
