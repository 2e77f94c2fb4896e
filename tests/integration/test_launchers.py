"""pop3d -i under each inetd-style launcher, PAM without preload, timeouts,
signals and configuration errors."""

import grp
import os
import poplib
import signal
import socket
import subprocess
import time
import unittest

from fixtures import simple
from harness import IS_ROOT, POP3D, EnvTestCase, Env, Raw, free_port, have, unstuff


def scripted_session(test, port):
    """CAPA, USER/PASS, STAT, UIDL, TOP n 0, RETR, DELE, QUIT through poplib."""
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    test.assertIn("UIDL", p.capa())
    p.user("alice")
    p.pass_("secret")
    test.assertEqual(p.stat()[0], 3)
    test.assertEqual(len(p.uidl()[1]), 3)
    test.assertEqual(p.top(1, 0)[1][0], b"Subject: msg 1")
    test.assertIn(b"body of msg 2", p.retr(2)[1])
    p.dele(2)
    p.quit()


class SocatTest(EnvTestCase):
    launcher = "socat"

    @classmethod
    def setUpClass(cls):
        if not have("socat"):
            raise unittest.SkipTest("socat not installed")
        super().setUpClass()

    def test_session(self):
        self.env.write_mailbox("alice", simple(3))
        scripted_session(self, self.env.port)
        self.assertNotIn(b"Subject: msg 2\n", self.env.read_mailbox("alice"))


class SocketActivateTest(EnvTestCase):
    """systemd-socket-activate -a --inetd: how systemd runs pop3d@.service."""
    launcher = "systemd-socket-activate"

    @classmethod
    def setUpClass(cls):
        if not have("systemd-socket-activate"):
            raise unittest.SkipTest("systemd-socket-activate not installed")
        super().setUpClass()

    def test_session(self):
        self.env.write_mailbox("alice", simple(3))
        scripted_session(self, self.env.port)
        self.assertIn("rip=127.0.0.1", self.env.log_text())

    @unittest.skipUnless(have("curl"), "curl not installed")
    def test_curl(self):
        self.env.write_mailbox("alice", simple(3))
        r = subprocess.run(["curl", "-s", "-u", "alice:secret", f"pop3://127.0.0.1:{self.env.port}/1"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.stdout, b"Subject: msg 1\r\nMessage-ID: <msg1@x>\r\n\r\nbody of msg 1\r\n")


class PamConfdirTest(EnvTestCase):
    """PAM from a private directory (pam_start_confdir), with no preload at all."""
    pam_mode = "confdir"
    launcher = "tcpserver"

    def test_login_and_failure(self):
        self.env.write_mailbox("alice", simple(3))
        scripted_session(self, self.env.port)
        c = self.connect()
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS wrong"), b"-ERR [AUTH] authentication failed")


class TimeoutTest(EnvTestCase):
    config = {"idle_timeout": "2", "login_timeout": "2"}
    launcher = "tcpserver"

    def test_idle_timeout_closes_without_response_or_update(self):
        data = simple(2)
        self.env.write_mailbox("alice", data)
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        start = time.monotonic()
        self.assertEqual(c.read_to_eof(), b"")
        self.assertGreaterEqual(time.monotonic() - start, 1.5)
        self.assertEqual(self.env.read_mailbox("alice"), data)
        self.assertIn("reason=timeout", self.env.log_text())

    def test_commands_reset_the_idle_timer(self):
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        c.login()
        for _ in range(3):
            time.sleep(1.2)
            self.assertEqual(c.cmd("NOOP"), b"+OK")

    def test_login_timeout_is_a_deadline(self):
        c = self.connect()
        start = time.monotonic()
        for _ in range(10):  # trickling commands do not extend it
            try:
                c.cmd("USER alice")
            except (EOFError, OSError):
                break
            time.sleep(0.5)
        self.assertLess(time.monotonic() - start, 4)


class SignalTest(EnvTestCase):
    launcher = "tcpserver"

    def test_sigterm_ends_the_session_without_update(self):
        data = simple(2)
        self.env.write_mailbox("alice", data)
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        from test_auth import pop3d_children_of
        pids = pop3d_children_of(self.env)
        self.assertEqual(len(pids), 1)
        os.kill(pids[0], signal.SIGTERM)
        self.assertEqual(c.read_to_eof(), b"-ERR [SYS/TEMP] server shutting down, try again later\r\n")
        self.assertEqual(self.env.read_mailbox("alice"), data)
        time.sleep(0.2)
        self.assertIn("reason=shutdown", self.env.log_text())


class ConfigErrorTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        # pop3d -t checks the pid file's directory: not /run, which nobody cannot write
        self.env.write_config(pid_file=os.path.join(self.env.dir, "pop3d.pid"))

    def test_bad_config_answers_sys_perm_and_closes(self):
        with open(self.env.conf, "a") as f:
            f.write("idle_timeout = soon\n")
        self.env.start()
        c = Raw(self.env.port)
        self.assertEqual(c.greeting, b"-ERR [SYS/PERM] server configuration error")
        self.assertEqual(c.read_to_eof(), b"")

    def test_check_mode(self):
        r = subprocess.run([POP3D, "-t", "-c", self.env.conf, "-o", f"pam_confdir={self.env.pam_dir}"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("configuration OK", r.stdout)
        with open(self.env.conf) as f:
            n = len(f.read().splitlines())
        with open(self.env.conf, "a") as f:
            f.write("no_such_key = 1\nmailbox = /var/mail/everyone\n")
        r = subprocess.run([POP3D, "-t", "-c", self.env.conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"error: {self.env.conf}:{n + 1}: unknown key 'no_such_key'", r.stdout)
        self.assertIn(f"error: {self.env.conf}:{n + 2}: mailbox: must contain %u or %h", r.stdout)
        self.assertEqual(r.stderr, "")

    def test_check_mode_diagnoses_the_setup(self):
        r = subprocess.run([POP3D, "-t", "-c", self.env.conf, "-o", "pam_service=nosuchservice",
                            "-o", f"pam_confdir={self.env.pam_dir}", "-o", "mail_group=nosuchgroup",
                            "-o", "mailbox=/nonexistent/spool/%u"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no PAM service file", r.stdout)
        self.assertIn("mail_group 'nosuchgroup' does not exist", r.stdout)
        self.assertIn("spool directory /nonexistent/spool does not exist", r.stdout)

    def check(self, *overrides):
        args = [POP3D, "-t", "-c", self.env.conf, "-o", f"pam_confdir={self.env.pam_dir}"]
        for o in overrides:
            args += ["-o", o]
        return subprocess.run(args, capture_output=True, text=True)

    def test_check_mode_binds_every_listen_address(self):
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        busy_port, free = busy.getsockname()[1], free_port()
        r = self.check(f"listen=127.0.0.1:{free} 127.0.0.1:{busy_port}")
        self.assertEqual(r.returncode, 0, r.stdout)  # in use: perhaps by the running daemon
        self.assertIn(f"ok: can listen on 127.0.0.1:{free}\n", r.stdout)
        self.assertIn(f"warning: cannot listen on 127.0.0.1:{busy_port}: Address already in use", r.stdout)
        r = self.check("listen=192.0.2.1:1110")  # TEST-NET-1: no address of this host
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: cannot listen on 192.0.2.1:1110: Cannot assign requested address", r.stdout)
        r = self.check("listen=localhost:110")
        self.assertEqual(r.returncode, 1)
        self.assertIn("listen", r.stdout)

    def test_check_mode_diagnoses_the_spool(self):
        spool = self.env.spool
        group = grp.getgrgid(os.stat(spool).st_gid).gr_name
        free = f"listen=127.0.0.1:{free_port()}"
        os.chmod(spool, 0o777)
        r = self.check(free, f"mail_group={group}")
        self.assertIn(f"warning: {spool} is world-writable without the sticky bit", r.stdout)
        if IS_ROOT:  # not root, pop3d owns the spool and writes there itself
            os.chmod(spool, 0o755)
            r = self.check(free, f"mail_group={group}")
            self.assertIn(f"error: sessions cannot create dotlocks in {spool}", r.stdout)
            os.chown(spool, self.env.uids["alice"], -1)
            r = self.check(free)
            self.assertIn(f"warning: {spool} is owned by uid {self.env.uids['alice']}, not root", r.stdout)
        os.chmod(spool, 0o2775)
        os.rmdir(spool)
        with open(spool, "w"):
            pass
        r = self.check(free)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"error: {spool} is not a directory", r.stdout)
        os.unlink(spool)
        r = self.check(free)
        self.assertIn(f"error: spool directory {spool} does not exist", r.stdout)
        os.mkdir(spool)  # for the cleanup

    def test_missing_named_config_file(self):
        r = subprocess.run([POP3D, "-t", "-c", "/nonexistent.conf"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: /nonexistent.conf: cannot open", r.stdout)

    def test_dump_version_help_and_usage_errors(self):
        r = subprocess.run([POP3D, "-T", "-c", self.env.conf, "-o", "idle_timeout=700"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("idle_timeout = 700\n", r.stdout)
        self.assertIn("pam_service = pop3\n", r.stdout)
        r = subprocess.run([POP3D, "-V"], capture_output=True, text=True)
        self.assertRegex(r.stdout, r"^pop3d \d+\.\d+\.\d+ \(TLS: [^)]+\)\n$")
        r = subprocess.run([POP3D, "-h"], capture_output=True, text=True)
        self.assertIn("usage: pop3d", r.stdout)
        r = subprocess.run([POP3D, "-Z"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([POP3D, "-o", "novalue"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)

    def test_defaults_with_no_config_serve_var_mail_through_pam_pop3(self):
        r = subprocess.run([POP3D, "-T", "-c", "/nonexistent-default.conf"], capture_output=True, text=True)
        self.assertIn("mailbox = /var/mail/%u\n", r.stdout)
        self.assertIn("pam_service = pop3\n", r.stdout)
        self.assertIn("idle_timeout = 600\n", r.stdout)


if __name__ == "__main__":
    unittest.main()
