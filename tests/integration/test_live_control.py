"""Live control (issue 19, item 2): pop3d who lists the live sessions of
every pop3d sharing a runtime_dir, pop3d kick USER ends one user's
sessions, pop3d unblock lifts the failed-login block of an address or of
all. LiveControlTest runs under every launch mode (tests/run_tests.py runs
it again per launcher): threads, forked sessions, inetd and systemd
activated processes all list, kick and unblock the same way."""

import datetime
import os
import re
import subprocess
import unittest

from fixtures import simple
from harness import IS_ROOT, POP3D, ROOT, Env, EnvTestCase, default_launcher, wait_for
from test_log_catalogue import catalogue, event_of, events
from test_tls import TlsEnvTestCase, starttls

KICKED = b"-ERR [SYS/TEMP] session ended by the administrator"
BLOCKED = b"-ERR [SYS/TEMP] Service temporarily unavailable: too many failed logins from your address"
COLUMNS = ["SESSION", "USER", "ADDRESS", "PROXY", "SINCE", "STATE", "PID", "TID"]
# One pop3d process per session here; in the others, one thread of the daemon.
PROCESS_PER_SESSION = ("tcpserver", "socat", "systemd-socket-activate", "fork", "activate-accept")


def control(env, *args, as_user=None):
    """pop3d -c CONF ARGS, as the control commands are meant to be run."""
    cmd = [POP3D, "-c", env.conf, *args]
    if as_user:
        cmd = ["setpriv", f"--reuid={as_user}", "--regid=nogroup", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def who(test, env):
    """pop3d who's rows, as dicts by column."""
    r = control(env, "who")
    test.assertEqual(r.returncode, 0, r.stderr)
    test.assertEqual(r.stderr, "")
    lines = r.stdout.splitlines()
    test.assertEqual(lines[0].split(), COLUMNS)
    return [dict(zip(COLUMNS, line.split())) for line in lines[1:]]


def new_log(env, since):
    return env.log_text()[since:]


def session_ids(log, pattern):
    """The session ids of the log lines whose text (after the level) starts with pattern."""
    return re.findall(r"^\S+ pop3d\[\d+\]: \w+: " + pattern + r".* session=([0-9a-z]{8})$", log, re.M)


class LiveControlTest(EnvTestCase):
    # No session lock: a user may have two sessions at once, and kick ends both.
    config = {"session_lock_dir": "", "auth_fail_budget": "2", "auth_fail_window": "600"}

    def test_who_lists_each_session_with_its_log_id_user_and_state(self):
        self.env.write_mailbox("alice", simple(2))
        mark = len(self.env.log_text())
        waiting = self.connect()  # greeted, not logged in
        alice = self.connect()  # the same address
        self.assertTrue(alice.login("alice").startswith(b"+OK"))
        self.assertTrue(wait_for(lambda: len(session_ids(new_log(self.env, mark), "connect")) == 2))
        log = new_log(self.env, mark)
        ids = session_ids(log, "connect rip=127.0.0.1")
        [alice_id] = session_ids(log, "login user=alice rip=127.0.0.1")
        [waiting_id] = [i for i in ids if i != alice_id]

        rows = {r["SESSION"]: r for r in who(self, self.env) if r["SESSION"] in ids}
        self.assertEqual(set(rows), set(ids))
        self.assertEqual(rows[alice_id]["USER"], "alice")
        self.assertEqual(rows[alice_id]["STATE"], "transaction")
        self.assertEqual(rows[waiting_id]["USER"], "-")
        self.assertEqual(rows[waiting_id]["STATE"], "authorization")
        for r in rows.values():
            self.assertEqual(r["ADDRESS"], "127.0.0.1")
            self.assertEqual(r["PROXY"], "-")
            since = datetime.datetime.fromisoformat(r["SINCE"])
            self.assertLess(abs((datetime.datetime.now() - since).total_seconds()), 60)
            with open(f"/proc/{r['PID']}/task/{r['TID']}/comm") as f:  # a live pop3d thread
                self.assertIn("pop3d", f.read())
        pids = {r["PID"] for r in rows.values()}
        tids = {r["TID"] for r in rows.values()}
        self.assertEqual(len(tids), 2)
        if default_launcher() in PROCESS_PER_SESSION:
            self.assertEqual(len(pids), 2)
            self.assertTrue(all(r["PID"] == r["TID"] for r in rows.values()))
        else:
            self.assertEqual(pids, {str(self.env.daemon_pid())})

        alice.cmd("QUIT")
        waiting.cmd("QUIT")
        self.assertTrue(wait_for(lambda: not {r["SESSION"] for r in who(self, self.env)} & set(ids)))

    def test_kick_ends_exactly_that_users_sessions_without_deleting(self):
        alice_mail, bob_mail = simple(3), simple(2)
        self.env.write_mailbox("alice", alice_mail)
        self.env.write_mailbox("bob", bob_mail)
        mark = len(self.env.log_text())
        first, second, bob, waiting = self.connect(), self.connect(), self.connect(), self.connect()
        for c, user in ((first, "alice"), (second, "alice"), (bob, "bob")):
            self.assertTrue(c.login(user).startswith(b"+OK"))
        self.assertEqual(first.cmd("DELE 1"), b"+OK message 1 deleted")
        self.assertEqual(second.cmd("DELE 2"), b"+OK message 2 deleted")
        self.assertEqual(bob.cmd("DELE 1"), b"+OK message 1 deleted")
        self.assertEqual(waiting.cmd("USER alice"), b"+OK send PASS")  # not logged in: not hers yet

        r = control(self.env, "kick", "alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        alice_ids = session_ids(new_log(self.env, mark), "login user=alice")
        self.assertEqual(len(alice_ids), 2)
        self.assertEqual(sorted(re.findall(r"^ended session (\w+) \(alice from 127\.0\.0\.1\)$", r.stdout, re.M)),
                         sorted(alice_ids), r.stdout)
        self.assertEqual(first.read_to_eof(), KICKED + b"\r\n")
        self.assertEqual(second.read_to_eof(), KICKED + b"\r\n")
        self.assertEqual(self.env.read_mailbox("alice"), alice_mail)  # the DELEs were dropped

        self.assertEqual(bob.cmd("NOOP"), b"+OK")  # the others go on
        self.assertTrue(waiting.cmd("PASS secret").startswith(b"+OK"))
        self.assertTrue(bob.cmd("QUIT").startswith(b"+OK"))
        self.assertNotEqual(self.env.read_mailbox("bob"), bob_mail)  # bob's deletion was done
        waiting.cmd("QUIT")

        self.assertTrue(wait_for(lambda: new_log(self.env, mark).count("reason=kicked") == 2), self.env.log_text())
        log = new_log(self.env, mark)
        self.assertEqual(sorted(session_ids(log, "session ended by the administrator user=alice rip=127.0.0.1")),
                         sorted(alice_ids))
        self.assertEqual(sorted(session_ids(log, r"logout user=alice .* reason=kicked")), sorted(alice_ids))
        self.check_lines_are_catalogued(log)

    def check_lines_are_catalogued(self, log):
        entries, known = catalogue(), events()
        for line in log.splitlines():
            level, text = line.split(": ", 2)[1:]
            if not (text.startswith("session ended by the administrator") or text.startswith("unblocked")):
                continue
            event = event_of(text, known)
            self.assertIsNotNone(event, line)
            bare = re.sub(r"(?: rip=\S+(?: proxy=\S+)?)? session=[0-9a-z]{8}$", "", text)
            self.assertTrue(any(e.level == level and e.regex.fullmatch(bare) for e in entries),
                            f"no pop3d(8) LOGGING entry matches: {level}: {bare}")

    def fail_twice(self, source):
        for _ in range(2):
            c = self.connect(source=source)
            c.cmd("USER alice")
            self.assertEqual(c.cmd("PASS wrong"), b"-ERR [AUTH] authentication failed")
            c.close()

    def blocked(self, source):
        c = self.connect(source=source)
        c.cmd("USER alice")
        reply = c.cmd("PASS secret")
        if reply.startswith(b"+OK"):
            c.cmd("QUIT")
            self.env.wait_sessions_ended()
            return False
        self.assertEqual(reply, BLOCKED)
        return True

    def test_unblock_lifts_the_block_of_one_address_or_all(self):
        self.addCleanup(control, self.env, "unblock", "all")
        self.env.write_mailbox("alice", simple(1))
        mark = len(self.env.log_text())
        self.fail_twice("127.0.0.1")
        self.fail_twice("127.0.0.2")
        self.assertTrue(self.blocked("127.0.0.1"))
        self.assertTrue(self.blocked("127.0.0.2"))

        r = control(self.env, "unblock", "127.0.0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "unblocked 127.0.0.1 (2 failed logins forgotten)\n")
        self.assertFalse(self.blocked("127.0.0.1"))  # the right password gets in again at once
        self.assertTrue(self.blocked("127.0.0.2"))  # the other stays blocked

        r = control(self.env, "unblock", "all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "unblocked every address (1 address, 2 failed logins forgotten)\n")
        self.assertFalse(self.blocked("127.0.0.2"))
        log = new_log(self.env, mark)
        self.assertIn("unblocked 127.0.0.1 (2 failed logins forgotten)\n", log)
        self.assertIn("unblocked every address (1 address, 2 failed logins forgotten)\n", log)
        self.check_lines_are_catalogued(log)


class KickInsideTlsTest(TlsEnvTestCase):
    """A session inside STLS waits in the TLS read path: the kick reaches it
    there too (make check-tls runs it)."""
    launcher = "threads"

    def test_kick_ends_a_tls_session(self):
        mail = simple(3)
        self.env.write_mailbox("alice", mail)
        c = self.connect()
        self.assertEqual(starttls(c, self.cert), b"+OK begin TLS negotiation")
        self.assertTrue(c.login("alice").startswith(b"+OK"))
        self.assertEqual(c.cmd("DELE 1"), b"+OK message 1 deleted")
        r = control(self.env, "kick", "alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^ended session \w{8} \(alice from 127\.0\.0\.1\)\n$")
        self.assertEqual(c.line(), KICKED)
        self.assertEqual(c.sock.recv(100), b"")  # close_notify, then the close
        self.assertEqual(self.env.read_mailbox("alice"), mail)


class DocumentedTest(unittest.TestCase):
    def test_help_and_the_man_page_name_every_command(self):
        usage = subprocess.run([POP3D, "-h"], capture_output=True, text=True).stdout
        for line in usage.splitlines():
            self.assertLessEqual(len(line), 80, line)
        with open(os.path.join(ROOT, "man", "pop3d.8")) as f:
            page = f.read()
        synopsis = page.split(".SH SYNOPSIS")[1].split(".SH ")[0]
        section = page.split(".SH LIVE CONTROL")[1].split(".SH ")[0]
        for command, argument in (("who", ""), ("kick", " USER"), ("unblock", " ADDR|all")):
            self.assertRegex(usage, rf"\n  {command}{re.escape(argument)} +\S")
            self.assertIn(command, synopsis)
            self.assertRegex(section, rf"\n\.BI? {command}\b")


class BadInputTest(unittest.TestCase):
    """What the commands say to a mistake: a clear line and a nonzero exit."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.env.start("threads")

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def check(self, args, status, message, env=None):
        r = control(env or self.env, *args)
        self.assertEqual(r.returncode, status, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(message, r.stderr)
        return r

    def test_a_user_with_no_session(self):
        self.check(["kick", "zed"], 1, "pop3d: no session of user 'zed' (pop3d who lists the sessions)\n")

    def test_a_bad_user_name(self):
        self.check(["kick", "a b"], 2, "pop3d: kick: 'a\\x20b' is not a valid user name\n")

    def test_a_bad_address(self):
        self.check(["unblock", "192.0.2.300"], 2, "pop3d: unblock: '192.0.2.300' is not an IP address (or all)\n")
        self.check(["unblock", "bob"], 2, "is not an IP address")

    def test_an_address_with_no_failures(self):
        self.check(["unblock", "2001:db8:1:2::7"], 1,
                   "pop3d: 2001:db8:1:2::/64 has no failed logins counted: nothing to unblock\n")

    def test_wrong_number_of_arguments(self):
        self.check(["kick"], 2, "pop3d: usage: pop3d [-c FILE] [-o KEY=VALUE]... kick USER\n")
        self.check(["who", "alice"], 2, "pop3d: usage: pop3d [-c FILE] [-o KEY=VALUE]... who\n")
        self.check(["unblock"], 2, "unblock ADDR|all\n")
        r = subprocess.run([POP3D, "-i", "-c", self.env.conf, "who"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("pop3d: who takes only -c and -o\n", r.stderr)

    def test_no_daemon_has_run_here(self):
        env = Env()  # never started: runtime_dir holds nothing
        self.addCleanup(env.close)
        message = f"pop3d: no {env.run_dir}/sessions: no pop3d has served a connection with runtime_dir {env.run_dir}"
        self.check(["who"], 1, message, env)
        self.check(["kick", "alice"], 1, message, env)
        self.check(["unblock", "all"], 1, f"pop3d: no {env.run_dir}/auth-failures: ", env)
        self.assertEqual(os.listdir(env.run_dir), [])  # and nothing was created

    def test_empty_runtime_dir(self):
        r = subprocess.run([POP3D, "-c", self.env.conf, "-o", "runtime_dir=", "who"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("pop3d: runtime_dir is empty", r.stderr)

    @unittest.skipUnless(IS_ROOT, "needs root to run the command as another user")
    def test_only_root_may_look(self):
        os.chmod(self.env.dir, 0o755)
        for args in (["who"], ["kick", "alice"], ["unblock", "all"]):
            r = control(self.env, *args, as_user="nobody")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("Permission denied (run this as root)", r.stderr)
        os.chmod(self.env.run_dir, 0o755)  # even where nobody may look in, the files are root's
        self.addCleanup(os.chmod, self.env.run_dir, 0o700)
        r = control(self.env, "who", as_user="nobody")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"pop3d: {self.env.run_dir}/sessions belongs to root: run this as root\n", r.stderr)


if __name__ == "__main__":
    unittest.main()
