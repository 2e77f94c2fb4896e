"""Ways around the failed-login budget and other leaks before login, end to
end: parallel guesses stay within the budget, link-local clients have one
(and are logged as fail2ban reads them), an IPv6 /64 shares its connection
slots, root's right password is answered like a wrong one, a client that
never reads is cut at the login deadline, a client's text cannot forge log
fields, and a session lock file open to others is not used."""

import base64
import ctypes
import hashlib
import os
import re
import socket
import subprocess
import threading
import time
import unittest

from fixtures import simple
from harness import IS_ROOT, Env, EnvTestCase, Raw, greets, have, wait_for
from test_auth import pam_exec_service
from test_hardening import BLOCKED, fail2ban_addresses, have_fail2ban

AUTH_FAILED = b"-ERR [AUTH] authentication failed"
TOO_MANY_HERE = b"-ERR [SYS/TEMP] too many connections from your address, try again later"


class ParallelGuessesTest(EnvTestCase):
    """30 connections guess at once while PAM takes a second: the budget
    is checked and spent in one step before PAM is asked, so only 3 of them
    reach PAM (they all did, when each failure was counted after PAM)."""
    config = {"auth_fail_budget": "3", "auth_fail_window": "600", "max_connections_per_address": "64",
              "max_concurrent_logins": "64"}
    GUESSES = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calls = os.path.join(cls.env.dir, "pam-calls")
        pam_exec_service(cls.env, "pop3-slow", "slow-guess", f'echo "$PAM_USER" >> {cls.calls}\nsleep 1\n',
                         exec_options="quiet ")

    def test_parallel_guesses_reach_pam_at_most_budget_times(self):
        self.env.write_mailbox("alice", simple(1))
        clients = [self.connect() for _ in range(self.GUESSES)]  # all greeted: only the guesses race
        for c in clients:
            self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")
        replies = [None] * self.GUESSES

        def guess(i):
            replies[i] = clients[i].cmd(f"PASS wrong{i}")
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(self.GUESSES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with open(self.calls) as f:
            pam_calls = f.read().split()
        self.assertEqual(len(pam_calls), 3, replies)
        self.assertEqual(replies.count(AUTH_FAILED), 3, replies)
        self.assertEqual(replies.count(BLOCKED), self.GUESSES - 3, replies)
        c = self.connect()
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS secret"), BLOCKED)


class LoginTimeoutBoundsSendsTest(EnvTestCase):
    """Before login, sends wait no longer than what is left of the login
    deadline: a client that pipelines commands and never reads their
    replies is cut at login_timeout, not after idle_timeout."""
    config = {"login_timeout": "2", "idle_timeout": "60"}

    def test_a_client_that_never_reads_is_cut_at_the_login_timeout(self):
        before = len(self.env.log_text())
        s = socket.socket()
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        s.settimeout(30)
        s.connect(("127.0.0.1", self.env.port))
        start = time.monotonic()

        def flood():
            try:
                s.sendall(b"CAPA\r\n" * 500000)  # 3 MB of commands, about 50 MB of replies
            except OSError:
                pass  # cut off
        t = threading.Thread(target=flood, daemon=True)
        t.start()
        ended = wait_for(lambda: "reason=timeout" in self.env.log_text()[before:], 20)
        elapsed = time.monotonic() - start
        self.assertTrue(ended, self.env.log_text()[before:])
        self.assertLess(elapsed, 10)  # 2 s of login_timeout (and a loaded machine), not 60 s of idle_timeout
        self.assertIn("disconnect rip=127.0.0.1 reason=timeout", self.env.log_text()[before:])
        t.join(15)


class NeverServedTest(EnvTestCase):
    """PAM accepts root's password (pam_matrix, root in the passdb; uid 0
    from nss_wrapper): the answer and its timing are a wrong password's."""
    config = {"login_fail_delay": "1", "login_fail_delay_max": "1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(cls.env.dir, "passdb"), "a") as f:
            f.write("root:rootpw:pop3\n")

    def timed(self, user, password):
        c = self.connect()
        self.assertEqual(c.cmd(f"USER {user}"), b"+OK send PASS")
        start = time.monotonic()
        reply = c.cmd(f"PASS {password}")
        return reply, time.monotonic() - start

    def test_roots_right_password_is_answered_like_a_wrong_one(self):
        wrong, wrong_time = self.timed("root", "not-it")
        right, right_time = self.timed("root", "rootpw")
        self.assertEqual(wrong, AUTH_FAILED)
        self.assertEqual(right, AUTH_FAILED)
        self.assertGreaterEqual(right_time, 0.95)  # login_fail_delay from PASS, as for the wrong one
        self.assertLess(abs(right_time - wrong_time), 0.5)
        log = self.env.log_text()
        self.assertIn("login failed user=root rip=127.0.0.1 (uid 0 is never served)", log)
        self.assertNotIn("refusing to serve root", log)  # the maildrop was never opened

    @unittest.skipIf(IS_ROOT, "as root the daemon can switch to any user")
    def test_without_root_another_uid_is_answered_like_a_wrong_password(self):
        self.env.write_mailbox("dave", simple(1), owner="alice")
        right, right_time = self.timed("dave", "dave-pw")
        self.assertEqual(right, AUTH_FAILED)
        self.assertGreaterEqual(right_time, 0.95)
        self.assertRegex(self.env.log_text(), r"login failed user=dave rip=127\.0\.0\.1 \(uid \d+ is not "
                                              r"pop3d's own uid \d+ and pop3d does not run as root\)")


class LogFieldTest(EnvTestCase):
    def test_an_authorization_identity_cannot_forge_log_fields(self):
        c = self.connect()
        forged = base64.b64encode(b"x rip=10.9.9.9 user=root\0alice\0secret").decode()
        self.assertEqual(c.cmd(f"AUTH PLAIN {forged}"), AUTH_FAILED)
        lines = [line for line in self.env.log_text().splitlines() if "login failed user=alice " in line]
        self.assertEqual(len(lines), 1, lines)
        self.assertEqual(re.findall(r" rip=(\S+)", lines[0]), ["127.0.0.1"], lines[0])
        self.assertEqual(re.findall(r" user=(\S+)", lines[0]), ["alice"], lines[0])


class PlantedSessionLockTest(EnvTestCase):
    def test_a_session_lock_file_open_to_others_is_not_used(self):
        self.env.write_mailbox("alice", simple(1))
        name = hashlib.sha256(self.env.mailbox("alice").encode()).hexdigest()[:32] + ".session"
        path = os.path.join(self.env.run_dir, name)
        with open(path, "w"):
            pass
        os.chmod(path, 0o666)  # anyone could hold its lock, denying alice's maildrop
        self.addCleanup(os.unlink, path)
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))  # served, without the exclusion
        c.cmd("QUIT")
        self.assertIn(f"warning: no one-session-per-maildrop exclusion: session lock {path} is open to group or "
                      "others (mode 0666, not 0600) (remove it) rip=127.0.0.1 session=", self.env.log_text())


CLONE_NEWNET = 0x40000000


def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class OwnNetworkNamespace:
    """Moves this thread (the tests' main thread, which starts the daemon)
    into a new network namespace whose loopback carries link-local and
    documentation addresses; the machine's own interfaces are left alone."""
    ADDRESSES = ["fe80::1", "fe80::2", "fe80::3"] + [f"2001:db8:1:2::{i}" for i in range(1, 6)] + ["2001:db8:1:3::2"]

    def __init__(self):
        self.name = f"p3ll{os.getpid()}"
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        steps = [["ip", "netns", "add", self.name], ["ip", "-n", self.name, "link", "set", "lo", "up"]]
        steps += [["ip", "-n", self.name, "addr", "add", f"{a}/64", "dev", "lo", "nodad"] for a in self.ADDRESSES]
        try:
            for step in steps:
                r = subprocess.run(step, capture_output=True, text=True)
                if r.returncode != 0:
                    raise OSError(f"{' '.join(step)}: {r.stderr.strip()}")
            fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
            try:
                setns(fd)
            finally:
                os.close(fd)
        except OSError:
            self.close()
            raise

    def close(self):
        setns(self.home)
        os.close(self.home)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@unittest.skipUnless(IS_ROOT, "needs root: a network namespace with link-local addresses")
class LinkLocalTest(EnvTestCase):
    """Clients at fe80::2%lo once had no budget (their address with its zone
    was no key) and were logged in a form fail2ban missed; and each address
    of a /64 had its own connection slots."""
    launcher = "threads"
    config = {"auth_fail_budget": "2", "auth_fail_window": "600", "max_connections_per_address": "3"}

    @classmethod
    def setUpClass(cls):
        if not have("ip"):
            raise unittest.SkipTest("ip (iproute2) not installed")
        try:
            cls.ns = OwnNetworkNamespace()
        except OSError as e:
            raise unittest.SkipTest(f"no network namespace here: {e}") from e
        try:
            cls.env = Env(pam_mode=os.environ.get("POP3D_PAM_MODE", "wrapper"), config=cls.config)
            cls.env.host = "[::]"
            cls.env.start(cls.launcher, probe=lambda port: greets(port, "::1", (b"+OK", b"-ERR")))
        except BaseException:
            if getattr(cls, "env", None):
                cls.env.close()
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.env.close()
        finally:
            cls.ns.close()

    def connect_from(self, source, to="fe80::1"):
        scope = socket.if_nametoindex("lo") if to.startswith("fe80:") else 0
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(10)
        s.bind((source, 0, 0, scope))
        s.connect((to, self.env.port, 0, scope))
        c = Raw.__new__(Raw)
        c.sock, c.buf = s, b""
        self.addCleanup(c.close)
        c.greeting = c.line()
        return c

    def test_link_local_clients_have_a_budget_and_are_logged_plain(self):
        self.env.write_mailbox("alice", simple(1))
        for _ in range(2):
            c = self.connect_from("fe80::2")
            c.cmd("USER alice")
            self.assertEqual(c.cmd("PASS wrong"), AUTH_FAILED)
            c.close()
        c = self.connect_from("fe80::3")  # the same fe80::/64
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS secret"), BLOCKED)
        log = self.env.log_text()
        self.assertIn("login failed user=alice rip=fe80::2 (", log)
        self.assertIn("login blocked user=alice rip=fe80::3 (2 failed logins from this address", log)
        self.assertNotIn("%lo", log)
        if have_fail2ban():
            self.assertEqual(fail2ban_addresses(self, self.env), ["fe80::2", "fe80::2", "fe80::3"])

    def test_one_slash64_shares_the_connection_limit(self):
        for i in (2, 3, 4):
            self.assertTrue(self.connect_from(f"2001:db8:1:2::{i}", "2001:db8:1:2::1").greeting.startswith(b"+OK"))
        refused = self.connect_from("2001:db8:1:2::5", "2001:db8:1:2::1")
        self.assertEqual(refused.greeting, TOO_MANY_HERE)
        other = self.connect_from("2001:db8:1:3::2", "2001:db8:1:2::1")  # another /64
        self.assertTrue(other.greeting.startswith(b"+OK"))
        self.assertTrue(wait_for(lambda: "refused rip=2001:db8:1:2::5 reason=max_connections_per_address (3)"
                                 in self.env.log_text()))


class LinkLocalForkTest(LinkLocalTest):
    launcher = "fork"
