"""pop3d with the machine's own PAM (/etc/pam.d/pop3 from contrib), real
users, real /var/mail mailboxes delivered by procmail, and no configuration
file at all, in every launch mode: per connection (systemd-socket-activate
-a --inetd, and -a with the connection on fd 3), the standalone daemon
(threads and fork), and socket activation of the daemon.

Changes the system (users, /etc/pam.d/pop3, /var/mail): run only on a
throw-away machine, as root, with POP3D_SYSTEM_TESTS=1 (CI does). Everything
it creates is removed afterwards."""

import grp
import mailbox
import os
import poplib
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from free_ports import free_port, greets, wait_for_server  # noqa: E402
from mail_clients import run_fetchmail, run_getmail  # noqa: E402
POP3D = os.environ.get("POP3D_BINARY", os.path.join(ROOT, "src", "pop3d"))
USERS = {"pop3t-alice": "Real-Pw-1!", "pop3t-bob": "other pass"}
PAM_FILE = "/etc/pam.d/pop3"


def message(n):
    return (f"From: sender{n}@example.org\nTo: pop3t-alice\nSubject: real {n}\nMessage-ID: <real{n}@example.org>\n\n"
            f"body {n}\n.leading dot\nFrom the middle\n").encode()


LAUNCH = {
    "inetd": lambda port: ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "-a", "--inetd", POP3D, "-i"],
    "accept-fd3": lambda port: ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "-a", POP3D],
    "threads": lambda port: [POP3D, "-f", "-l", f"127.0.0.1:{port}"],
    "fork": lambda port: [POP3D, "-f", "-l", f"127.0.0.1:{port}", "-o", "process_model=fork"],
    "activate-listen": lambda port: ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", POP3D, "-f"],
}


FAILURE_TABLE = "/run/pop3d/auth-failures"  # in the default runtime_dir


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class RealSystemBase:
    """The tests, mixed into one TestCase per launch mode below."""
    launch = None  # a key of LAUNCH

    @classmethod
    def setUpClass(cls):
        for tool in ("systemd-socket-activate", "procmail", "useradd", "chpasswd"):
            if not shutil.which(tool):
                raise unittest.SkipTest(f"{tool} not installed")
        cls.created_pam = False
        if not os.path.exists(PAM_FILE):
            shutil.copy(os.path.join(ROOT, "contrib", "pam.d", "pop3"), PAM_FILE)
            cls.created_pam = True
        for user, pw in USERS.items():
            subprocess.run(["userdel", "-f", user], capture_output=True)
            subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", user], check=True)
            subprocess.run(["chpasswd"], input=f"{user}:{pw}\n".encode(), check=True)
        os.makedirs("/var/mail", exist_ok=True)
        for user in USERS:
            if os.path.exists(f"/var/mail/{user}"):
                os.unlink(f"/var/mail/{user}")
        for n in (1, 2, 3):  # real delivery: procmail -d, dotlock + fcntl, user-owned mailbox
            subprocess.run(["procmail", "-d", "pop3t-alice"], input=message(n), check=True, timeout=60)
        # Each launch mode starts with no failed logins on record: the
        # defaults double the delay per failure from 127.0.0.1 (and refuse
        # after 20), which would carry over from the previous class.
        if os.path.exists(FAILURE_TABLE):
            os.unlink(FAILURE_TABLE)
        cls.port = free_port()
        cls.server = subprocess.Popen(LAUNCH[cls.launch](cls.port), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        if wait_for_server(lambda: greets(cls.port), cls.server, 10) != "ready":
            raise RuntimeError(f"{cls.launch} did not start on port {cls.port}")

    @classmethod
    def tearDownClass(cls):
        os.killpg(cls.server.pid, signal.SIGTERM)
        cls.server.wait(timeout=10)
        for user in USERS:
            subprocess.run(["userdel", "-f", user], capture_output=True)
            for suffix in ("", ".lock"):
                if os.path.exists(f"/var/mail/{user}{suffix}"):
                    os.unlink(f"/var/mail/{user}{suffix}")
        if cls.created_pam:
            os.unlink(PAM_FILE)

    def pop(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=30)
        p.user("pop3t-alice")
        p.pass_(USERS["pop3t-alice"])
        return p

    def test_1_mailbox_is_what_procmail_delivered(self):
        st = os.stat("/var/mail/pop3t-alice")
        self.assertEqual(st.st_uid, pwd.getpwnam("pop3t-alice").pw_uid)

    def test_2_poplib_reads_every_message_intact(self):
        p = self.pop()
        count, _ = p.stat()
        self.assertEqual(count, 3)
        _, listing, _ = p.list()
        for i in range(1, 4):
            _, lines, _ = p.retr(i)
            octets = b"".join(l + b"\r\n" for l in lines)
            self.assertEqual(int(listing[i - 1].split()[1]), len(octets))
            self.assertIn(b"Subject: real %d" % i, octets)
            self.assertTrue(octets.endswith(b"body %d\r\n.leading dot\r\nFrom the middle\r\n" % i))
        p.quit()

    def test_3_bad_password_and_unknown_user(self):
        for user in ("pop3t-alice", "pop3t-nosuch"):
            p = poplib.POP3("127.0.0.1", self.port, timeout=30)
            p.user(user)
            with self.assertRaises(poplib.error_proto) as e:
                p.pass_("wrong password")
            self.assertEqual(e.exception.args[0], b"-ERR [AUTH] authentication failed")

    def test_4_curl(self):
        if not shutil.which("curl"):
            self.skipTest("curl not installed")
        r = subprocess.run(["curl", "-s", "-u", f"pop3t-alice:{USERS['pop3t-alice']}",
                            f"pop3://127.0.0.1:{self.port}/2"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"Subject: real 2\r\n", r.stdout)

    def test_5_getmail6_as_an_ordinary_user(self):
        if not shutil.which("getmail"):
            self.skipTest("getmail6 not installed")
        work = tempfile.mkdtemp()
        os.chmod(work, 0o755)
        r, dest = run_getmail(work, self.port, "pop3t-alice", USERS["pop3t-alice"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(m["Subject"] for m in mailbox.mbox(dest)), ["real 1", "real 2", "real 3"])
        shutil.rmtree(work)

    def test_6_fetchmail_fetches_and_deletes(self):
        if not shutil.which("fetchmail"):
            self.skipTest("fetchmail not installed")
        work = tempfile.mkdtemp()
        r, data = run_fetchmail(work, self.port, "pop3t-alice", USERS["pop3t-alice"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(data.count(b"Subject: real "), 3)
        self.assertEqual(os.path.getsize("/var/mail/pop3t-alice"), 0)
        st = os.stat("/var/mail/pop3t-alice")
        self.assertEqual(st.st_uid, pwd.getpwnam("pop3t-alice").pw_uid)
        self.assertEqual(st.st_gid, grp.getgrnam("mail").gr_gid)
        self.assertFalse(os.path.exists("/var/mail/pop3t-alice.lock"))
        shutil.rmtree(work)

    def test_7_user_without_mailbox_has_an_empty_maildrop(self):
        p = poplib.POP3("127.0.0.1", self.port, timeout=30)
        p.user("pop3t-bob")
        p.pass_(USERS["pop3t-bob"])
        self.assertEqual(p.stat(), (0, 0))
        p.quit()


class InetdTest(RealSystemBase, unittest.TestCase):
    launch = "inetd"


class AcceptOnFd3Test(RealSystemBase, unittest.TestCase):
    launch = "accept-fd3"


class ThreadedDaemonTest(RealSystemBase, unittest.TestCase):
    launch = "threads"


class ForkingDaemonTest(RealSystemBase, unittest.TestCase):
    launch = "fork"


class ActivatedDaemonTest(RealSystemBase, unittest.TestCase):
    launch = "activate-listen"


if __name__ == "__main__":
    unittest.main()
