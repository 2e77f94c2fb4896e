"""Brute force: rising failed-login delays per client address, the
per-address failure budget (shared by every thread and process), and log
lines that the shipped fail2ban filter reads."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from fixtures import simple
from harness import BUILD_TESTS, IS_ROOT, ROOT, SANITIZED, EnvTestCase, Raw, have, proc_status_kib, wait_for
from test_auth import pam_exec_service

FAIL2BAN_FILTER = os.path.join(ROOT, "contrib", "fail2ban", "filter.d", "pop3d.conf")
BLOCKED = b"-ERR [SYS/TEMP] Service temporarily unavailable: too many failed logins from your address"
SLOTS_BUSY = b"-ERR [SYS/TEMP] Service temporarily unavailable: too many logins in progress, try later"


class FailureBudgetTest(EnvTestCase):
    """Runs under every launcher: separate inetd processes share the counts
    through the table in session_lock_dir."""
    config = {"auth_fail_budget": "3", "auth_fail_window": "600"}

    def test_budget_per_address_then_pam_is_not_asked(self):
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")
        self.assertEqual(c.cmd("PASS wrong1"), b"-ERR [AUTH] authentication failed")
        c = self.connect()  # a new connection (a new process under inetd) remembers
        c.cmd("USER nosuchuser")
        self.assertEqual(c.cmd("PASS wrong2"), b"-ERR [AUTH] authentication failed")
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS wrong3"), b"-ERR [AUTH] authentication failed")
        c = self.connect()
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS secret"), BLOCKED)  # even the right password
        self.assertEqual(c.sock.recv(10), b"")  # and the connection is closed
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), BLOCKED)
        log = self.env.log_text()
        self.assertIn("login blocked user=alice rip=127.0.0.1 (3 failed logins from this address within 600 s)", log)
        # Another client address is not affected.
        other = self.connect(source="127.0.0.2")
        self.assertTrue(other.login().startswith(b"+OK"), "127.0.0.2 must log in")
        other.cmd("QUIT")


class RisingDelayTest(EnvTestCase):
    config = {"login_fail_delay": "1", "login_fail_delay_max": "2"}

    def timed_failure(self, source=None, results=None):
        c = self.connect(source=source)
        c.cmd("USER alice")
        start = time.monotonic()
        reply = c.cmd("PASS wrong")
        elapsed = time.monotonic() - start
        if results is not None:
            results[source] = elapsed
        self.assertEqual(reply, b"-ERR [AUTH] authentication failed")
        return elapsed

    def test_delay_rises_per_address_and_blocks_only_that_session(self):
        self.env.write_mailbox("alice", simple(1))
        first = self.timed_failure()
        self.assertGreaterEqual(first, 0.95)
        self.assertLess(first, 1.6)
        # The second failure from 127.0.0.1 waits 2 s; meanwhile a client at
        # 127.0.0.2 gets its first (1 s) answer: nobody waits for another.
        results = {}
        t = threading.Thread(target=self.timed_failure, kwargs={"source": "127.0.0.2", "results": results})
        t.start()
        second = self.timed_failure()
        t.join()
        self.assertGreaterEqual(second, 1.95)
        self.assertLess(second, 2.6)
        self.assertGreaterEqual(results["127.0.0.2"], 0.95)
        self.assertLess(results["127.0.0.2"], 1.6)
        third = self.timed_failure()  # capped at login_fail_delay_max
        self.assertGreaterEqual(third, 1.95)
        self.assertLess(third, 2.6)


def have_fail2ban():
    return have("fail2ban-regex") and os.path.exists("/etc/fail2ban/filter.d/common.conf")


def fail2ban_addresses(test, env):
    """The addresses contrib/fail2ban's filter finds in env's log, run as
    installed (next to fail2ban's own common.conf)."""
    filters = os.path.join(env.dir, "filter.d")
    os.makedirs(filters, exist_ok=True)
    shutil.copy("/etc/fail2ban/filter.d/common.conf", filters)
    shutil.copy(FAIL2BAN_FILTER, filters)
    r = subprocess.run(["fail2ban-regex", "-o", "ip", env.log, os.path.join(filters, "pop3d.conf")],
                       capture_output=True, text=True)
    test.assertEqual(r.returncode, 0, r.stdout + r.stderr)
    return r.stdout.split()


class Fail2banFilterTest(EnvTestCase):
    config = {"auth_fail_budget": "2"}

    def test_filter_finds_every_failure_and_only_the_real_address(self):
        if not have_fail2ban():
            self.skipTest("fail2ban is not installed (apt-get install fail2ban)")
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        c.cmd("USER alice")
        c.cmd("PASS wrong")
        # A user name that tries to plant another address in the log line.
        c.cmd("USER x)rip=10.9.9.9")
        c.cmd("PASS wrong")
        c = self.connect()
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS secret"), BLOCKED)
        c = self.connect()
        c.cmd("USER x rip=10.9.9.9 (")
        c = self.connect(source="127.0.0.2")
        self.assertTrue(c.login().startswith(b"+OK"))
        c.cmd("QUIT")
        # Two failures and the blocked attempt, all from the real address.
        self.assertEqual(fail2ban_addresses(self, self.env), ["127.0.0.1"] * 3, self.env.log_text())


class StalledReaderTest(EnvTestCase):
    """A client that asks for a huge message and stops reading is cut off by
    the send timeout (idle_timeout); its session ends, its maildrop is free
    again and nothing is deleted."""
    launcher = "threads"
    config = {"idle_timeout": "2"}

    def test_client_that_stops_reading_is_cut_off(self):
        big = (b"From a@x Thu Nov 26 10:00:00 2026\nSubject: big\n\n" + (b"x" * 999 + b"\n") * 30000 + b"\n")
        self.env.write_mailbox("alice", big)
        c = self.connect()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.assertTrue(c.login().startswith(b"+OK"))
        c.send("DELE 1\r\nRETR 1\r\n")  # DELE first: a cut session must not expunge it
        start = time.monotonic()
        self.assertTrue(wait_for(lambda: "reason=io-error" in self.env.log_text() or
                                 "reason=timeout" in self.env.log_text(), 15), self.env.log_text())
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(self.env.read_mailbox("alice"), big)
        again = self.connect()
        self.assertTrue(again.login().startswith(b"+OK maildrop has 1 message "))
        again.cmd("QUIT")


TINY = b"From a@x Thu Nov 26 10:00:00 2026\nX\n\n"


def peak_rss_kib(pid):
    return proc_status_kib(pid, "VmHWM")


def rss_kib(pid):
    return proc_status_kib(pid, "VmRSS")


class HugeMailboxTest(EnvTestCase):
    """A million tiny messages and one 2 GiB message: memory stays bounded
    (the index is 56 bytes a message, at most max_messages of them, and
    messages are streamed) and the bytes sent are the bytes stored."""
    launcher = "threads"
    config = {"max_messages": "100000", "idle_timeout": "120"}

    def test_a_million_tiny_messages_are_served_up_to_max_messages(self):
        self.env.write_mailbox("alice", TINY * 1000000)
        c = self.connect()
        self.assertEqual(c.login(), b"+OK maildrop has 100000 messages (300000 octets)")
        self.assertIn("holds more than 100000 messages (max_messages)", self.env.log_text())
        _, uidl = c.multiline("UIDL")
        self.assertEqual(uidl.count(b"\r\n") - 1, 100000)
        c.cmd("DELE 1")
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.env.read_mailbox("alice"), TINY * 999999)  # the rest kept, byte for byte
        if not SANITIZED:
            self.assertLess(peak_rss_kib(self.env.daemon_pid()), 64 * 1024)

    def test_a_2_gib_message_is_streamed_byte_for_byte(self):
        if SANITIZED:
            self.skipTest("2 GiB through an instrumented daemon takes too long")
        head = b"From a@x Thu Nov 26 10:00:00 2026\nSubject: big\n\n"
        path = self.env.write_mailbox("alice", head)
        body = 2 * 1024 ** 3 + 5  # NUL bytes, a sparse file: no disk used
        os.truncate(path, len(head) + body)
        with open(path, "ab") as f:
            f.write(b"\nend\n")
        expected = len(b"Subject: big\r\n\r\n") + body + len(b"\r\nend\r\n")
        # Indexing reads 2 GiB: give a loaded machine (make check runs two
        # passes at once) more than the usual 10 s.
        c = Raw(self.env.port, timeout=120)
        self.addCleanup(c.close)
        self.assertTrue(c.login().startswith(b"+OK maildrop has 1 message "))
        self.assertEqual(c.cmd("LIST 1"), f"+OK 1 {expected}".encode())
        c.send("RETR 1\r\n")
        self.assertEqual(c.line(), f"+OK {expected} octets".encode())
        received, tail = len(c.buf), c.buf[-16:]
        c.buf = b""
        while not tail.endswith(b"\r\n.\r\n"):
            chunk = c.sock.recv(1 << 20)
            self.assertTrue(chunk, "connection closed during RETR")
            received += len(chunk)
            tail = (tail + chunk)[-16:]
        self.assertEqual(received - len(b".\r\n"), expected)  # NULs and letters: nothing to stuff
        self.assertTrue(tail.endswith(b"\r\nend\r\n.\r\n"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertLess(peak_rss_kib(self.env.daemon_pid()), 64 * 1024)



class FloodTest(EnvTestCase):
    """Giant lines and command floods from many clients at once: the daemon
    never holds a line whole (a too-long line is discarded as it arrives)
    nor more than 64 KiB of output for a client that does not read, so its
    memory does not grow with what clients send."""
    launcher = "threads"
    config = {"max_connections_per_address": "100", "idle_timeout": "60", "login_timeout": "60"}
    CLIENTS = 24

    def flood(self, payload, read_replies):
        """Every client sends payload from its own thread; once all are
        stalled or done, read_replies(client) reads what each got back.
        Returns how far the daemon's RSS rose meanwhile, in KiB."""
        pid = self.env.daemon_pid()
        before, peak, done = rss_kib(pid), [0], threading.Event()

        def sample():
            while not done.wait(0.01):
                peak[0] = max(peak[0], rss_kib(pid))
        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            cs = [self.connect() for _ in range(self.CLIENTS)]
            senders = [threading.Thread(target=c.send, args=(payload,)) for c in cs]
            for t in senders:
                t.start()
            time.sleep(1)  # senders whose replies are not read stall here, with full buffers
            for c in cs:
                read_replies(c)
                self.assertEqual(c.cmd("USER bob"), b"+OK send PASS")  # the session carries on
                self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
                c.close()
            for t in senders:
                t.join()
        finally:
            done.set()
            sampler.join()
        return peak[0] - before

    def test_giant_lines_are_discarded_as_they_arrive(self):
        def replies(c):
            self.assertEqual(c.line(), b"-ERR line too long")
            self.assertTrue(c.line().startswith(b"+OK"))  # CAPA after it
            self.assertTrue(c.multiline_raw().endswith(b"\r\n.\r\n"))
        grown = self.flood(b"USER " + b"A" * (4 << 20) + b"\r\nCAPA\r\n", replies)
        if not SANITIZED:  # 24 clients x 4 MiB: 96 MiB if lines were held whole
            self.assertLess(grown, 4 * 1024, f"RSS grew by {grown} KiB")

    def test_command_flood_from_clients_that_do_not_read(self):
        count = 100000  # 1.2 MB of commands and 1.5 MB of replies a client

        def replies(c):
            for _ in range(count):
                self.assertEqual(c.line(), b"+OK send PASS")
        grown = self.flood(b"USER alice\r\n" * count, replies)
        if not SANITIZED:  # 24 clients x 1.5 MB: 36 MB if replies were queued
            self.assertLess(grown, 4 * 1024, f"RSS grew by {grown} KiB")


class LoginSlotsTest(EnvTestCase):
    """max_concurrent_logins: past it a login waits for a slot, up to the
    login timeout. bob's logins sit in PAM (pam_exec sleeps) holding the
    only slot."""
    launcher = "threads"
    config = {"max_concurrent_logins": "1", "login_timeout": "3"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid_file = os.path.join(cls.env.dir, "bob-in-pam")
        cls.seconds_file = os.path.join(cls.env.dir, "bob-seconds")
        pam_exec_service(cls.env, "pop3-slow", "slow-for-bob",
                         f'[ "$PAM_USER" = bob ] || exit 0\necho $PPID > {cls.pid_file}\n'
                         f'exec sleep "$(cat {cls.seconds_file})"\n', exec_options="quiet ")

    def setUp(self):
        super().setUp()
        for u in ("alice", "bob"):
            self.env.write_mailbox(u, simple(1, u))
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)

    def slow_bob(self, seconds):
        """bob logs in from a thread of his own; returns once he is in PAM."""
        with open(self.seconds_file, "w") as f:
            f.write(str(seconds))
        result = {}
        c = self.connect()

        def login():
            try:
                result["reply"] = c.login("bob")
            except OSError as e:
                result["reply"] = repr(e).encode()
        t = threading.Thread(target=login)
        t.start()
        self.assertTrue(wait_for(lambda: os.path.exists(self.pid_file) and os.path.getsize(self.pid_file) > 0))
        return t, result

    def timed_login(self, user="alice"):
        c = self.connect()
        start = time.monotonic()
        reply = c.login(user)
        return reply, time.monotonic() - start

    def test_a_login_waits_for_the_slot(self):
        t, bob = self.slow_bob(1.5)
        reply, elapsed = self.timed_login()
        t.join()
        self.assertTrue(reply.startswith(b"+OK"), reply)
        self.assertGreater(elapsed, 1.0)  # it waited for bob's login to end
        self.assertTrue(bob["reply"].startswith(b"+OK"), bob)

    def test_no_slot_until_the_login_timeout_is_a_temporary_error(self):
        if self.env.launcher != "threads":
            self.skipTest("once is enough")
        t, bob = self.slow_bob(4)
        reply, elapsed = self.timed_login()
        self.assertEqual(reply, SLOTS_BUSY)
        self.assertGreater(elapsed, 2.0)  # the login timeout is 3 s from connecting
        t.join()
        self.assertIn("login deferred user=alice rip=127.0.0.1", self.env.log_text())
        self.assertNotIn("login failed user=alice", self.env.log_text())  # nothing counts against alice
        self.assertTrue(self.timed_login()[0].startswith(b"+OK"))

    def test_the_slot_of_a_killed_session_is_taken_back(self):
        if self.env.launcher in ("threads", "activate-listen"):
            self.skipTest("one process serves every session: killing it ends them all")
        t, _ = self.slow_bob(5)
        with open(self.pid_file) as f:
            os.kill(int(f.read()), signal.SIGKILL)  # bob's pop3d, in the middle of PAM
        reply, elapsed = self.timed_login()
        t.join()
        self.assertTrue(reply.startswith(b"+OK"), reply)
        self.assertLess(elapsed, 3.0)


class LoginSlotsInetdTest(LoginSlotsTest):
    """One pop3d -i per connection: the slots in runtime_dir are shared."""
    launcher = "tcpserver"


class LoginSlotsForkTest(LoginSlotsTest):
    launcher = "fork"

    def test_a_login_waits_for_the_slot(self):
        self.skipTest("waiting is the same in every mode: the threads and inetd classes show it")


@unittest.skipUnless(IS_ROOT, "needs root: the drop from root is what is tested")
class RootCannotBeRegainedTest(EnvTestCase):
    """inetd mode (one pop3d -i per connection): right after the session
    process drops to the user, code running in it (the setuid_probe shim)
    cannot get root back nor open a root-only file."""
    launcher = "systemd-socket-activate"

    @classmethod
    def setUpClass(cls):
        shim = os.path.join(BUILD_TESTS, "libsetuid_probe.so")
        if not os.path.exists(shim):
            raise unittest.SkipTest("build/tests/libsetuid_probe.so not built (make check builds it)")
        super().setUpClass()
        cls.probe_log = os.path.join(cls.env.dir, "setuid-probe.log")
        cls.secret = os.path.join(cls.env.dir, "root-only")
        with open(cls.secret, "w") as f:
            f.write("secret\n")
        os.chmod(cls.secret, 0o600)
        cls.env.stop()
        cls.env.extra_preload = [shim]
        cls.env.extra_env = {"SETUID_PROBE_LOG": cls.probe_log, "SETUID_PROBE_SECRET": cls.secret}
        cls.env.start()

    def test_setuid_0_fails_after_the_drop(self):
        self.env.write_mailbox("alice", b"")
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        with open(self.probe_log) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1, lines)  # one session process, one drop
        self.assertRegex(lines[0], rf"^pid=\d+ uid={self.env.uids['alice']} setuid\(0\)=-1/EPERM "
                                   r"seteuid\(0\)=-1/EPERM setresuid\(0,0,0\)=-1/EPERM open\(secret\)=-1/EACCES$")


class RootCannotBeRegainedAcceptYesTest(RootCannotBeRegainedTest):
    """The same for systemd's Accept=yes (one pop3d per connection, no -i)."""
    launcher = "activate-accept"


class RootCannotBeRegainedForkTest(RootCannotBeRegainedTest):
    """The same for the standalone daemon's fork process model."""
    launcher = "fork"
