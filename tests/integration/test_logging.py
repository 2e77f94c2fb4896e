"""Logs an admin can follow (issue 19, item 3): every line of a connection,
from connect (or its refusal) to logout, carries the same session id and
the client's address, in every launch mode, so two sessions from one
address at once can be told apart; every refusal a client gets leaves a
line; under systemd (JOURNAL_STREAM) no line reaches the journal twice."""

import os
import re
import signal
import subprocess
import time
import unittest

from fixtures import simple
from harness import POP3D, Env, EnvTestCase, Raw, free_port, have, wait_for
from test_proxy import Proxied, closed_without_greeting, v1

TOOLS = {"tcpserver": "tcpserver", "activate-listen": "systemd-socket-activate",
         "activate-accept": "systemd-socket-activate"}
SESSION = re.compile(r" session=([0-9a-z]{8})$")
# The daemon's own lines, about no connection.
DAEMON_LINE = re.compile(r"\]: (notice|warning|error): (listening on |shutting down; |stopped$|configuration reloaded |"
                         r"configuration warning: |reload|grace period over: )")


def tls_built_in():
    return "(TLS: none)" not in subprocess.run([POP3D, "-V"], capture_output=True, text=True).stdout


def log_lines(env):
    """The text of each log_file line (after 'pop3d[PID]: LEVEL: ')."""
    return [line.split(": ", 2)[2] for line in env.log_text().splitlines() if line.count(": ") >= 2]


def sessions(test, env):
    """{session id: [lines]}, checking that every line about a connection
    has a session id and a client address."""
    by_id = {}
    for line in env.log_text().splitlines():
        if DAEMON_LINE.search(line):
            continue
        text = line.split(": ", 2)[2]
        m = SESSION.search(text)
        test.assertIsNotNone(m, f"no session id: {line}")
        test.assertRegex(text, r"(^| )rip=\S+", line)
        by_id.setdefault(m.group(1), []).append(text)
    return by_id


def the_session(test, by_id, needle):
    """The lines of the one session that has a line containing needle."""
    found = [lines for lines in by_id.values() if any(needle in line for line in lines)]
    test.assertEqual(len(found), 1, f"{needle!r} in {len(found)} sessions: {by_id}")
    return found[0]


class SessionIdTest(unittest.TestCase):
    """Two sessions from one address at once (three with TLS built in: one
    inside STLS), a proxied one and a refused PROXY header, in each launch
    mode: each connection's lines carry one id of their own, connect to
    logout, expunge, TLS and PROXY lines included."""

    def run_in(self, launcher):
        tool = TOOLS.get(launcher)
        if tool and not have(tool):
            self.skipTest(f"{tool} not installed")
        env = Env(config={"proxy_trusted": "127.0.0.2"})
        self.addCleanup(env.close)
        env.write_mailbox("alice", simple(2))
        env.write_mailbox("bob", simple(3))
        env.write_mailbox("carol", simple(1))
        tls = tls_built_in() and have("openssl")
        if tls:
            from test_tls import make_cert
            cert, key = make_cert(env.dir)
            env.write_config(tls_cert=cert, tls_key=key)
        env.start(launcher)
        a, b = Raw(env.port), Raw(env.port)  # both from 127.0.0.1, both open at once
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        self.assertTrue(a.login("alice").startswith(b"+OK"))
        self.assertTrue(b.login("bob").startswith(b"+OK"))
        self.assertTrue(a.cmd("RETR 1").startswith(b"+OK"))
        a.multiline_raw()
        self.assertTrue(b.cmd("DELE 1").startswith(b"+OK"))
        self.assertTrue(b.cmd("QUIT").startswith(b"+OK"))
        self.assertTrue(a.cmd("QUIT").startswith(b"+OK"))
        if tls:  # a third one, inside TLS
            from test_tls import starttls
            t = Raw(env.port)
            self.addCleanup(t.close)
            self.assertTrue(starttls(t, cert).startswith(b"+OK"))
            self.assertTrue(t.login("carol").startswith(b"+OK"))
            self.assertTrue(t.cmd("QUIT").startswith(b"+OK"))
        p = Proxied(env.port, v1("192.0.2.9"))
        self.addCleanup(p.close)
        self.assertEqual(p.cmd("QUIT")[:3], b"+OK")
        self.assertEqual(closed_without_greeting(env.port, b"PROXY TCP4 192.0.2.300 127.0.0.1 1 110\r\n"), b"")
        self.assertTrue(wait_for(lambda: env.log_text().count("logout ") == 2 + tls and "disconnect rip=192.0.2.9" in
                                 env.log_text() and "PROXY header refused" in env.log_text()), env.log_text())
        by_id = sessions(self, env)
        alice = the_session(self, by_id, "login user=alice")
        bob = the_session(self, by_id, "login user=bob")
        self.assertIsNot(alice, bob)
        for lines, user in ((alice, "alice"), (bob, "bob")):
            self.assertTrue(lines[0].startswith("connect rip=127.0.0.1 "), lines)
            self.assertTrue(lines[-1].startswith(f"logout user={user} rip=127.0.0.1 "), lines)
        self.assertTrue(any(line.startswith("expunged 1 of 3 messages") and " rip=127.0.0.1 session=" in line
                            for line in bob), bob)
        if tls:
            carol = the_session(self, by_id, "login user=carol")
            self.assertTrue(carol[0].startswith("connect rip=127.0.0.1 "), carol)
            self.assertTrue(carol[1].startswith("tls rip=127.0.0.1 TLSv1."), carol)
        proxied = the_session(self, by_id, "rip=192.0.2.9")
        self.assertTrue(proxied[0].startswith("connect rip=192.0.2.9 proxy=127.0.0.2 "), proxied)
        self.assertTrue(proxied[-1].startswith("disconnect rip=192.0.2.9 reason=QUIT "), proxied)
        refused = the_session(self, by_id, "PROXY header refused")
        self.assertTrue(refused[0].startswith("PROXY header refused rip=unknown proxy=127.0.0.2: "), refused)
        # Every connection (the harness's probes too) has an id of its own.
        for lines in by_id.values():
            self.assertEqual(len([line for line in lines if line.startswith("connect ")]), 1 - (lines is refused),
                             lines)
            self.assertRegex(lines[-1], r"^(logout|disconnect|PROXY header refused) ", lines)

    def test_inetd(self):
        self.run_in("tcpserver")

    def test_threads(self):
        self.run_in("threads")

    def test_fork(self):
        self.run_in("fork")

    def test_socket_activation(self):
        self.run_in("activate-listen")

    def test_socket_activation_accept(self):
        self.run_in("activate-accept")


class RefusalTest(EnvTestCase):
    """Every -ERR a client gets before login comes with a line naming the
    client and the session."""
    config = {"proxy_trusted": "127.0.0.2"}

    def test_refusals_before_login_are_logged(self):
        c = self.connect()
        self.assertEqual(c.cmd("USER a\tb"), b"-ERR [AUTH] invalid user name")
        self.assertEqual(c.cmd("AUTH CRAM-MD5"), b"-ERR unsupported authentication mechanism")
        self.assertEqual(c.cmd("STLS")[:4], b"-ERR")
        c.cmd("QUIT")
        self.assertTrue(wait_for(lambda: "disconnect rip=127.0.0.1 reason=QUIT" in self.env.log_text()))
        lines = the_session(self, sessions(self, self.env), "login refused user=a\\x09b")
        self.assertTrue(lines[1].startswith("login refused user=a\\x09b rip=127.0.0.1 (invalid user name) session="),
                        lines)
        self.assertTrue(lines[2].startswith("login refused rip=127.0.0.1 (unsupported SASL mechanism CRAM-MD5)"),
                        lines)
        self.assertTrue(lines[3].startswith("STLS refused rip=127.0.0.1 ("), lines)

    def test_plaintext_login_before_stls_is_logged(self):
        # Only a TLS build can require STLS (the unit test
        # SessionLogTest.PlaintextBeforeStlsIsLogged covers every build).
        if not tls_built_in() or not have("openssl"):
            self.skipTest("pop3d built without TLS (./configure --with-openssl), or no openssl command")
        from test_tls import make_cert
        env = Env(config={"proxy_trusted": "127.0.0.2"})
        self.addCleanup(env.close)
        cert, key = make_cert(env.dir)
        env.write_config(tls_cert=cert, tls_key=key)
        env.start(self.env.launcher)
        c = Proxied(env.port, v1("192.0.2.5"))  # not loopback: plaintext needs TLS
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("USER alice"), b"-ERR [AUTH] plaintext authentication needs TLS: use STLS first")
        self.assertEqual(c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
                         b"-ERR [AUTH] plaintext authentication needs TLS: use STLS first")
        c.cmd("QUIT")
        self.assertTrue(wait_for(lambda: "disconnect rip=192.0.2.5" in env.log_text()))
        lines = the_session(self, sessions(self, env), "rip=192.0.2.5")
        self.assertTrue(lines[1].startswith("login refused user=alice rip=192.0.2.5 (USER before STLS: "), lines)
        self.assertTrue(lines[2].startswith("login refused rip=192.0.2.5 (AUTH PLAIN before STLS: "), lines)
        self.assertNotIn("AGFsaWNlAHNlY3JldA", env.log_text())

    def test_expunge_failed_names_the_client_and_the_session(self):
        self.env.write_mailbox("alice", simple(3))
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertTrue(c.cmd("DELE 1").startswith(b"+OK"))
        with open(self.env.mailbox("alice"), "r+b") as f:  # a MUA rewrites it in place
            f.write(simple(4, "rewritten"))
        self.assertEqual(c.cmd("QUIT"), b"-ERR [SYS/TEMP] mailbox changed by another program, no messages deleted")
        self.assertTrue(wait_for(lambda: "reason=QUIT-failed" in self.env.log_text()))
        lines = the_session(self, sessions(self, self.env), "expunge failed")
        failed = [line for line in lines if line.startswith("expunge failed")]
        self.assertRegex(failed[0], r"^expunge failed user=alice rip=127\.0\.0\.1: .* session=[0-9a-z]{8}$")
        self.assertTrue(lines[0].startswith("connect rip=127.0.0.1 "), lines)


class JournalTest(unittest.TestCase):
    """pop3d -f under systemd: stderr is the journal, and so is syslog."""

    def run_daemon(self, journal_stream, log_file=False):
        env = Env()
        self.addCleanup(env.close)
        env.write_config(log_file=env.log if log_file else "")
        stderr = os.path.join(env.dir, "daemon.stderr")
        open(stderr, "wb").close()  # the harness appends to it: same inode
        st = os.stat(stderr)
        env.extra_env["JOURNAL_STREAM"] = journal_stream or f"{st.st_dev}:{st.st_ino}"
        env.start("threads")
        with Raw(env.port) as c:
            c.cmd("QUIT")
        if log_file:
            self.assertTrue(wait_for(lambda: "disconnect rip=127.0.0.1" in env.log_text()))
        else:
            time.sleep(0.5)
        env.stop()
        with open(stderr, errors="replace") as f:
            return f.read()

    def test_no_copy_to_stderr_when_it_is_the_journal(self):
        self.assertNotIn("connect rip=", self.run_daemon(None))

    def test_copies_when_stderr_is_not_the_journal(self):
        text = self.run_daemon("1:2")  # a journal stream, but not our stderr (redirected)
        self.assertRegex(text, r"pop3d: connect rip=127\.0\.0\.1 session=[0-9a-z]{8}\n")

    def test_copies_when_lines_go_to_a_log_file(self):
        text = self.run_daemon(None, log_file=True)
        self.assertIn("pop3d: connect rip=127.0.0.1 session=", text)


if __name__ == "__main__":
    unittest.main()
