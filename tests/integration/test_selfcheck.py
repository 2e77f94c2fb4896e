"""pop3d -t on real broken setups, one test per finding: each breaks one
thing in an otherwise good private setup (temporary spool, runtime
directories, PAM directory, pid file, log file) and expects exactly that
finding. Every finding goes to stdout as an ok:, warning: or error: line,
the summary comes last, and nothing goes to stderr, so that `pop3d -t >
file` keeps everything.

As root some setups are also checked as nobody (setpriv), since a pop3d
that is not root can serve only its own account. Setups only root can make
(a spool root owns, a private mount namespace for /dev/log, a FUSE spool)
are skipped as an ordinary user."""

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import unittest

from harness import IS_ROOT, POP3D, ROOT, Env, free_port, have

HERE = os.path.dirname(os.path.abspath(__file__))
NOBODY = pwd.getpwnam("nobody")
FINDING = ("ok: ", "warning: ", "error: ")


def docdir():
    """Where make install puts README and the examples (configure's docdir)."""
    with open(os.path.join(ROOT, "src", "build_config.h")) as f:
        return re.search(r'^#define POP3D_DOCDIR "(.*)"$', f.read(), re.M).group(1)


def tls_built_in():
    return "TLS: none" not in subprocess.run([POP3D, "-V"], capture_output=True, text=True).stdout


def make_key_pair(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


class SelfCheckTest(unittest.TestCase):
    def setUp(self):
        self.env = Env(pam_mode="confdir")  # -t reads the PAM directory itself: no wrapper
        self.addCleanup(self.env.close)
        self.sessions = os.path.join(self.env.dir, "sessions")  # apart from runtime_dir: one breaks alone
        os.mkdir(self.sessions, 0o700)
        self.env.write_config(listen=f"127.0.0.1:{free_port()}", session_lock_dir=self.sessions,
                              pid_file=os.path.join(self.env.dir, "pop3d.pid"))
        self.prefix = []

    # ---- running pop3d -t ----
    def check(self, *overrides):
        args = [*self.prefix, POP3D, "-t", "-c", self.env.conf]
        for o in overrides:
            args += ["-o", o]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stderr, "", "pop3d -t writes every finding to stdout")
        lines = r.stdout.splitlines()
        self.assertTrue(lines and lines[-1].startswith("configuration "), r.stdout)  # the summary, last
        for line in lines[:-1]:
            self.assertTrue(line.startswith(FINDING), line)
        return r

    def lines(self, r, level):
        return [line[len(level) + 2:] for line in r.stdout.splitlines() if line.startswith(level + ": ")]

    def assertOnlyError(self, r, text):
        """Exit 1 and exactly one error, which says text."""
        errors = self.lines(r, "error")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(len(errors), 1, r.stdout)
        self.assertIn(text, errors[0])

    def assertWarns(self, r, text):
        self.assertTrue(any(text in w for w in self.lines(r, "warning")), r.stdout)

    def as_nobody(self):
        """Later checks run as nobody, owner of the test's files (as root
        through setpriv; an ordinary user already is the unprivileged one)."""
        if not IS_ROOT:
            return
        for top, dirs, files in os.walk(self.env.dir):
            for name in [top] + [os.path.join(top, n) for n in dirs + files]:
                os.lchown(name, NOBODY.pw_uid, NOBODY.pw_gid)
        self.prefix = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups"]

    def me(self):
        return pwd.getpwuid(NOBODY.pw_uid if IS_ROOT else os.geteuid()).pw_name

    # ---- the good setup ----
    def test_a_good_setup_has_no_error(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(self.lines(r, "error"), [])
        self.assertIn(f"ok: log lines go to {self.env.log}\n", r.stdout)
        self.assertTrue(r.stdout.endswith(f"configuration OK ({self.env.conf})\n") or not IS_ROOT, r.stdout)
        if IS_ROOT:
            self.assertEqual(self.lines(r, "warning"), [])

    # ---- the configuration ----
    def test_an_error_in_an_override_names_the_option(self):
        r = self.check("idle_timeout=abc")
        self.assertOnlyError(r, "-o idle_timeout=abc: expects a duration")
        self.assertTrue(r.stdout.startswith("error: -o idle_timeout=abc: expects a duration"), r.stdout)
        self.assertTrue(r.stdout.endswith(f"configuration has errors ({self.env.conf}): 1 error\n"), r.stdout)

    # ---- who pop3d runs as ----
    def test_not_root_with_other_users_mailboxes_is_an_error(self):
        self.as_nobody()
        if IS_ROOT:  # a spool of root's that anyone may create files in: only the owners are missing
            os.chown(self.env.spool, 0, 0)
            os.chmod(self.env.spool, 0o1777)
            spool = self.env.spool
        else:
            spool = "/tmp"  # root's, 1777, on every system
        r = self.check(f"mailbox={spool}/%u")
        self.assertOnlyError(r, f"pop3d runs as {self.me()} (uid {NOBODY.pw_uid if IS_ROOT else os.geteuid()}), "
                                f"not root: it cannot become the owners of the mailboxes under {spool}")

    def test_not_root_with_its_own_spool_serves_itself_alone(self):
        self.as_nobody()
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertWarns(r, f"not root: it serves {self.me()} alone; any other user's login fails")

    # ---- the spool ----
    @unittest.skipUnless(IS_ROOT, "a spool owned by root")
    def test_spool_the_mail_group_cannot_write_is_an_error(self):
        spool, mail = self.env.spool, grp.getgrnam("mail").gr_gid
        os.chown(spool, 0, 0)
        os.chmod(spool, 0o755)
        r = self.check("mail_group=mail")
        self.assertOnlyError(r, f"sessions cannot create dotlocks in {spool} (root:root 0755): every login to an "
                                f"existing mailbox fails (cannot create {spool}/USER.lock: Permission denied)")
        os.chown(spool, 0, mail)
        os.chmod(spool, 0o2775)
        self.assertEqual(self.check("mail_group=mail").returncode, 0)
        r = self.check("mail_group=")
        self.assertOnlyError(r, "mail_group is empty: set it to mail")
        os.chown(spool, 0, 0)
        r = self.check("mail_group=mail")
        self.assertOnlyError(r, "it is writable by group root, not by mail_group mail")

    @unittest.skipUnless(IS_ROOT, "a spool owned by root")
    def test_a_group_too_big_for_the_first_buffer_is_named(self):
        # Its entry needs more than the first 16 KiB: the lookup grows the buffer (common/nss).
        with open(os.path.join(self.env.dir, "group"), "a") as f:
            f.write("crowd:x:4242:" + ",".join(f"member{i}" for i in range(3000)) + "\n")
        os.chown(self.env.spool, 0, 4242)
        os.chmod(self.env.spool, 0o2775)
        r = subprocess.run([POP3D, "-t", "-c", self.env.conf, "-o", "mail_group="], capture_output=True, text=True,
                           timeout=60, env=self.env.environment())
        self.assertIn("mail_group is empty: set it to crowd\n", r.stdout)

    def test_spool_pop3d_cannot_write_without_root_is_an_error(self):
        self.as_nobody()
        os.chmod(self.env.spool, 0o555)
        r = self.check()
        self.assertOnlyError(r, f"pop3d, as {self.me()}, cannot create dotlocks in {self.env.spool}")

    def test_missing_spool_directory_is_an_error(self):
        spool = os.path.join(self.env.dir, "nospool")
        r = self.check(f"mailbox={spool}/%u")
        self.assertOnlyError(r, f"spool directory {spool} does not exist")

    def test_missing_directory_above_per_user_directories_is_an_error(self):
        top = os.path.join(self.env.dir, "nospool")
        r = self.check(f"mailbox={top}/%u/mbox")
        if IS_ROOT:
            self.assertOnlyError(r, f"directory {top} does not exist: no mailbox of the pattern {top}/%u/mbox")
        else:  # only our own account can be served: its directory is checked
            self.assertOnlyError(r, f"mailbox directory of {self.me()} {top}/{self.me()} does not exist")

    @unittest.skipUnless(IS_ROOT and have("unshare") and os.path.exists("/dev/fuse"), "mounts FUSE as root")
    def test_shared_spool_with_a_local_session_lock_dir_is_a_warning(self):
        shared = os.path.join(self.env.dir, "shared")
        os.mkdir(shared)
        self.prefix = ["unshare", "-m", sys.executable, os.path.join(HERE, "shared_fs.py"), shared, "2775", "0",
                       str(grp.getgrnam("mail").gr_gid), "--"]
        probe = subprocess.run(self.prefix + ["true"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            self.skipTest(f"cannot mount FUSE here: {probe.stderr.strip()}")
        r = self.check(f"mailbox={shared}/%u")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn(f"ok: {shared} is on a shared filesystem", r.stdout)
        self.assertWarns(r, f"the spool is shared, but session_lock_dir {self.sessions} is local")
        self.assertEqual(len(self.lines(r, "warning")), 1, r.stdout)
        self.prefix = []
        self.assertNotIn("shared", self.check().stdout)  # the same setup on a local spool

    # ---- runtime_dir and session_lock_dir ----
    def test_runtime_dir_that_cannot_be_made_is_an_error(self):
        run = os.path.join(self.env.dir, "missing", "run")
        r = self.check(f"runtime_dir={run}")
        self.assertOnlyError(r, f"runtime_dir {run} does not exist, nor does {os.path.dirname(run)}")
        self.assertIn("failed logins would be counted, and max_concurrent_logins applied, per process only",
                      r.stdout)

    def test_runtime_dir_made_at_first_use_is_fine(self):
        run = os.path.join(self.env.dir, "new-run")
        r = self.check(f"runtime_dir={run}")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn(f"ok: runtime_dir {run} does not exist yet: pop3d makes it (mode 0700)", r.stdout)
        self.assertFalse(os.path.exists(run), "pop3d -t makes nothing")

    def test_runtime_dir_that_is_a_file_is_an_error(self):
        with open(os.path.join(self.env.dir, "run-file"), "w"):
            pass
        r = self.check(f"runtime_dir={self.env.dir}/run-file")
        self.assertOnlyError(r, f"runtime_dir {self.env.dir}/run-file is not a directory")

    def test_runtime_dir_pop3d_cannot_write_is_an_error(self):
        self.as_nobody()  # root writes anywhere
        os.chmod(self.env.run_dir, 0o500)
        r = self.check()
        self.assertOnlyError(r, f"runtime_dir {self.env.run_dir}: pop3d cannot create files in it")
        self.assertIn("Permission denied", r.stdout)

    def assert_refused_runtime_file(self, name, mode, consequence):
        path = os.path.join(self.env.run_dir, name)
        with open(path, "w") as f:
            f.write("not pop3d's\n")
        os.chmod(path, mode)
        self.assertOnlyError(self.check(), f"{path} is not a private regular file of the right size (remove it): "
                                           + consequence)

    def test_runtime_file_the_daemon_refuses_is_an_error(self):
        self.assert_refused_runtime_file("auth-failures", 0o644, "failed logins would be counted per process only")

    def test_session_registry_the_daemon_refuses_is_an_error(self):
        self.assert_refused_runtime_file("sessions", 0o600, "pop3d who and kick would not see the sessions")

    def test_runtime_dir_writable_by_others_is_a_warning(self):
        os.chmod(self.env.run_dir, 0o777)
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertWarns(r, f"runtime_dir {self.env.run_dir} is writable by others")

    def test_session_lock_dir_that_cannot_be_made_is_an_error(self):
        locks = os.path.join(self.env.dir, "missing", "sessions")
        r = self.check(f"session_lock_dir={locks}", "login_delay=60")
        self.assertOnlyError(r, f"session_lock_dir {locks} does not exist, nor does {os.path.dirname(locks)}")
        self.assertIn("a second session of a maildrop would not be refused with [IN-USE], and login_delay would "
                      "not apply", r.stdout)

    def test_session_lock_file_the_daemon_refuses_is_a_warning(self):
        lock = os.path.join(self.sessions, "0123456789abcdef0123456789abcdef.session")
        with open(lock, "w"):
            pass
        os.chmod(lock, 0o644)
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertWarns(r, f"1 session lock file in {self.sessions} cannot be used ({lock} is open to group or "
                            "others (mode 0644, not 0600)): its maildrop gets no one-session exclusion")

    # ---- pid file ----
    def test_pid_file_in_a_missing_directory_is_an_error(self):
        pid = os.path.join(self.env.dir, "missing", "pop3d.pid")
        r = self.check(f"pid_file={pid}")
        self.assertOnlyError(r, f"pid_file {pid}: its directory {os.path.dirname(pid)} does not exist")

    # ---- PAM ----
    def test_missing_pam_service_file(self):
        pam = self.env.pam_dir
        r = self.check("pam_service=nosuch")
        self.assertOnlyError(r, f"no PAM service file {pam}/nosuch and no {pam}/other: every login fails")
        # The hint names the example make install wrote, not a file of the source tree.
        self.assertOnlyError(r, f"(copy {docdir()}/examples/pam.d/pop3 to {pam}/nosuch)")
        with open(os.path.join(pam, "other"), "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n")
        r = self.check("pam_service=nosuch")
        self.assertOnlyError(r, f"no PAM service file {pam}/nosuch: PAM uses {pam}/other, which denies every login")
        shutil.copy(os.path.join(pam, "pop3"), os.path.join(pam, "other"))  # Debian's other: the common stack
        r = self.check("pam_service=nosuch")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertWarns(r, f"no PAM service file {pam}/nosuch: PAM uses {pam}/other for pop3d")

    # ---- TLS ----
    @unittest.skipUnless(have("openssl"), "openssl makes the key")
    def test_tls_key_readable_by_everyone_is_a_warning(self):
        cert, key = make_key_pair(self.env.dir)
        r = self.check(f"tls_cert={cert}", f"tls_key={key}")
        self.assertNotIn("tls_key", "".join(self.lines(r, "warning")))
        if tls_built_in():
            self.assertEqual(r.returncode, 0, r.stdout)
        os.chmod(key, 0o644)
        r = self.check(f"tls_cert={cert}", f"tls_key={key}")
        self.assertWarns(r, f"tls_key {key} is readable by every local user")
        if tls_built_in():
            self.assertEqual(r.returncode, 0, r.stdout)
        private = os.path.join(self.env.dir, "private")  # Debian's /etc/ssl/private: 0710, no way in for others
        os.mkdir(private, 0o700)
        os.rename(key, os.path.join(private, "key.pem"))
        r = self.check(f"tls_cert={cert}", f"tls_key={private}/key.pem")
        self.assertNotIn("tls_key", "".join(self.lines(r, "warning")))

    @unittest.skipUnless(have("openssl") and IS_ROOT, "a key only root can read")
    def test_unreadable_tls_key_is_an_error(self):
        if not tls_built_in():
            self.skipTest("pop3d built without TLS (./configure --with-openssl)")
        cert, key = make_key_pair(self.env.dir)
        self.as_nobody()
        os.chown(key, 0, 0)
        r = self.check(f"tls_cert={cert}", f"tls_key={key}")
        self.assertOnlyError(r, f"TLS: private key {key}")

    # ---- logging ----
    @unittest.skipUnless(IS_ROOT and have("unshare"), "a private /dev needs root")
    def test_no_syslog_and_no_log_file_is_a_warning(self):
        self.prefix = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs tmpfs /dev && exec "$@"', "sh"]
        probe = subprocess.run(self.prefix + ["true"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            self.skipTest(f"cannot mount a private /dev here: {probe.stderr.strip()}")
        r = self.check("log_file=")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertWarns(r, "no syslog daemon listens on /dev/log (No such file or directory) and log_file is empty: "
                            "every log line would be lost")
        self.assertNotIn("syslog", self.check().stdout)  # a log file: nothing is lost
        sock_path = os.path.join(self.env.dir, "log.sock")
        syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(syslog.close)
        syslog.bind(sock_path)
        self.prefix = ["unshare", "-m", "sh", "-c",
                       f'mount -t tmpfs tmpfs /dev && touch /dev/log && mount --bind {sock_path} /dev/log && '
                       'exec "$@"', "sh"]
        r = self.check("log_file=")
        self.assertIn("ok: log lines go to syslog through /dev/log (facility mail)\n", r.stdout)
        self.assertNotIn("syslog", "".join(self.lines(r, "warning")))

    def test_log_file_that_cannot_be_opened_is_a_warning(self):
        log = os.path.join(self.env.dir, "missing", "pop3d.log")
        r = self.check(f"log_file={log}")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertWarns(r, f"log_file {log} cannot be opened (its directory {os.path.dirname(log)} does not exist): "
                            "pop3d logs to syslog instead")


if __name__ == "__main__":
    unittest.main()
