"""The Debian package (make deb, contrib/debian), as an admin meets it:
lintian finds no error or warning; dpkg -i and --purge run without a
question and leave the admin's own /etc/pam.d/pop3 byte for byte as it was
(the package's PAM service is pop3d); its pop3d serves a real user's
/var/mail mailbox through /etc/pam.d/pop3d with nothing configured, and
STLS and pop3s once tls_cert and tls_key name the snakeoil pair; dpkg
refuses to install it beside another pop3-server, and the other way round;
the start at install asks policy-rc.d; a purge leaves nothing behind.

Installs packages and a user: run only on a throw-away machine, as root,
with POP3D_SYSTEM_TESTS=1 (CI does)."""

import glob
import os
import poplib
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)
from free_ports import free_port, greets, wait_for_server  # noqa: E402
from deb_host import (ADMIN_PAM_FILE, DEB_ENV, AdminPamFile, MailUser, TlsPair, dpkg, forget,  # noqa: E402
                      installed, pop3_servers, private_mounts, run)

USER, PASSWORD = "pop3t-deb", "Deb-Pw-7?"
UNITS = "/lib/systemd/system"
INSTALLED = ["/usr/sbin/pop3d", "/etc/pop3d.conf", "/etc/pam.d/pop3d", "/usr/share/man/man8/pop3d.8.gz",
             "/usr/share/man/man5/pop3d.conf.5.gz", f"{UNITS}/pop3d.service", f"{UNITS}/pop3d.socket",
             f"{UNITS}/pop3d@.service", f"{UNITS}/pop3d-activate.socket", f"{UNITS}/pop3s-activate.socket",
             "/etc/fail2ban/filter.d/pop3d.conf", "/usr/share/doc/pop3d/README.Debian",
             "/usr/share/doc/pop3d/copyright", "/usr/share/doc/pop3d/examples/inetd/pop3d.inetd"]
WANTS = "/etc/systemd/system/multi-user.target.wants/pop3d.service"
SOCKET_WANTS = "/etc/systemd/system/sockets.target.wants"


@unittest.skipUnless(os.environ.get("POP3D_SYSTEM_TESTS") == "1", "installs a package: set POP3D_SYSTEM_TESTS=1")
@unittest.skipUnless(os.geteuid() == 0, "needs root")
@unittest.skipUnless(shutil.which("dpkg-buildpackage") and shutil.which("dh"), "dpkg-dev or debhelper not installed")
class DebianPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if installed("pop3d") or any(os.path.lexists(p) for p in ("/etc/pam.d/pop3d", "/etc/pop3d.conf")):
            raise unittest.SkipTest("pop3d (a package, /etc/pam.d/pop3d or /etc/pop3d.conf) is already on this machine")
        if pop3_servers():
            raise unittest.SkipTest(f"another pop3-server is installed: {pop3_servers()}")
        r = run("make", "-s", "-C", ROOT, "deb", timeout=900)
        if r.returncode != 0:
            raise AssertionError("make deb failed:\n" + r.stdout + r.stderr)
        debs = glob.glob(os.path.join(ROOT, "build", "deb", "pop3d_*.deb"))
        if len(debs) != 1:
            raise AssertionError(f"make deb made {debs}")
        cls.deb = debs[0]
        cls.changes = glob.glob(os.path.join(ROOT, "build", "deb", "pop3d_*.changes"))

    def setUp(self):
        self.addCleanup(forget, "pop3d")

    def install(self, prefix=()):
        r = dpkg("-i", self.deb, prefix=prefix)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(installed("pop3d"))
        return r.stdout + r.stderr

    def purge(self):
        r = dpkg("--purge", "pop3d")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout + r.stderr

    def mail_user(self):
        user = MailUser(USER, PASSWORD)
        self.addCleanup(user.remove)
        return user

    def daemon(self, cmd, ready):
        log = tempfile.TemporaryFile()  # pop3d -f logs to stderr: a file never fills
        self.addCleanup(log.close)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        self.addCleanup(proc.wait, 30)
        self.addCleanup(proc.terminate)
        state = wait_for_server(ready, proc, 30)
        if state != "ready":
            log.seek(0)
            self.fail(f"{cmd}: {state}: {log.read().decode(errors='replace')}")
        return proc

    def log_in(self, pop, user):
        pop.user(user.name)
        pop.pass_(user.password)
        self.assertEqual(pop.stat(), (1, user.SIZE))

    @unittest.skipUnless(shutil.which("lintian"), "lintian not installed")
    def test_lintian_reports_no_error_or_warning(self):
        r = run("lintian", "--fail-on", "error,warning", self.deb, *self.changes)
        hints = [line for line in r.stdout.splitlines() if line[:2] in ("E:", "W:")]
        self.assertEqual(hints, [], r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_install_serve_purge_beside_the_admins_pam_file(self):
        admin = AdminPamFile()
        self.addCleanup(admin.remove)
        out = self.install()
        self.assertNotIn("Configuration file", out)
        self.assertTrue(admin.unchanged(), f"dpkg -i changed {ADMIN_PAM_FILE}")

        listed = run("dpkg", "-L", "pop3d").stdout.split()
        for path in INSTALLED:
            self.assertIn(path, listed)
            self.assertTrue(os.path.exists(path), path)
        self.assertNotIn(ADMIN_PAM_FILE, listed)
        conffiles = [line.split()[0] for line in
                     run("dpkg-query", "-W", "-f=${Conffiles}\n", "pop3d").stdout.splitlines() if line.strip()]
        self.assertEqual(sorted(conffiles),
                         ["/etc/fail2ban/filter.d/pop3d.conf", "/etc/pam.d/pop3d", "/etc/pop3d.conf"])
        # Only the daemon is enabled; no socket unit is.
        self.assertTrue(os.path.islink(WANTS))
        socket_links = os.listdir(SOCKET_WANTS) if os.path.isdir(SOCKET_WANTS) else []
        self.assertEqual([f for f in socket_links if "pop3" in f], [])

        if shutil.which("systemd-analyze"):
            units = [f"{UNITS}/{u}" for u in ("pop3d.service", "pop3d@.service", "pop3d.socket",
                                              "pop3d-activate.socket", "pop3s-activate.socket")]
            r = run("systemd-analyze", "verify", *units)
            problems = [line for line in (r.stdout + r.stderr).splitlines()
                        if "not executable" in line or "Unknown" in line or "rror" in line]
            self.assertEqual((r.returncode, problems), (0, []), r.stdout + r.stderr)

        # The package's default PAM service is pop3d, and its config says so.
        self.assertIn("pam_service = pop3d\n", run("/usr/sbin/pop3d", "-T").stdout)
        with open("/etc/pop3d.conf") as f:
            self.assertRegex(f.read(), r"(?m)^#\s*pam_service\s*=\s*pop3d\b")
        port = free_port()
        r = run("/usr/sbin/pop3d", "-t", "-l", f"127.0.0.1:{port}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok: PAM service file /etc/pam.d/pop3d exists", r.stdout)
        self.assertIn("configuration OK (/etc/pop3d.conf)", r.stdout)

        # The installed daemon, its PAM file, a real user and mailbox.
        user = self.mail_user()
        daemon = self.daemon(["/usr/sbin/pop3d", "-f", "-l", f"127.0.0.1:{port}"], lambda: greets(port))
        pop = poplib.POP3("127.0.0.1", port, timeout=10)
        self.log_in(pop, user)
        self.assertEqual(pop.retr(1)[1], [b"Subject: packaged", b"", b"hello"])
        pop.dele(1)
        pop.quit()
        self.assertEqual(os.path.getsize(user.mbox), 0)
        daemon.terminate()
        daemon.wait(30)
        if admin.created:
            # README.Debian's migration: pam_service = pop3 uses the old file.
            port = free_port()
            daemon = self.daemon(["/usr/sbin/pop3d", "-f", "-l", f"127.0.0.1:{port}", "-o", "pam_service=pop3"],
                                 lambda: greets(port))
            pop = poplib.POP3("127.0.0.1", port, timeout=10)
            pop.user(user.name)
            pop.pass_(user.password)
            self.assertEqual(pop.stat(), (0, 0))
            pop.quit()
            daemon.terminate()
            daemon.wait(30)
        user.remove()

        out = self.purge()
        self.assertNotIn("Configuration file", out)
        self.assertTrue(admin.unchanged(), f"dpkg --purge changed or removed {ADMIN_PAM_FILE}")
        for path in INSTALLED + [WANTS]:
            self.assertFalse(os.path.lexists(path), path)
        self.assertNotEqual(run("dpkg-query", "-W", "pop3d").returncode, 0, "dpkg still lists pop3d")

    def test_dpkg_refuses_another_pop3_server_either_way(self):
        tmp = tempfile.mkdtemp(prefix="pop3d-deb-fake-")
        self.addCleanup(shutil.rmtree, tmp)
        os.makedirs(os.path.join(tmp, "pkg", "DEBIAN"))
        with open(os.path.join(tmp, "pkg", "DEBIAN", "control"), "w") as f:
            f.write("Package: fake-pop3-server\nVersion: 1.0\nArchitecture: all\n"
                    "Maintainer: pop3d tests <pop3d-tests@example.org>\nProvides: pop3-server\n"
                    "Description: another POP3 server (test stand-in)\n"
                    " It provides pop3-server and holds nothing.\n")
        fake = os.path.join(tmp, "fake.deb")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", os.path.join(tmp, "pkg"), fake],
                       check=True, capture_output=True)
        self.addCleanup(forget, "fake-pop3-server")

        r = dpkg("-i", fake)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = dpkg("-i", self.deb)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        # The refusal is pop3d's own Conflicts (the stand-in declares none).
        self.assertIn("pop3d conflicts with pop3-server", r.stderr)
        self.assertIn("conflicting packages - not installing pop3d", r.stderr)
        self.assertTrue(installed("fake-pop3-server"))
        self.assertFalse(installed("pop3d"))

        forget("fake-pop3-server")
        forget("pop3d")
        self.install()
        r = dpkg("-i", fake)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("pop3d conflicts with pop3-server", r.stderr)
        self.assertIn("conflicting packages - not installing fake-pop3-server", r.stderr)
        self.assertTrue(installed("pop3d"))
        self.assertFalse(installed("fake-pop3-server"))

    def test_stls_and_pop3s_with_the_snakeoil_pair(self):
        self.install()
        pair = TlsPair()
        self.addCleanup(pair.remove)
        # README.Debian's quick start, in the installed conffile.
        with open("/etc/pop3d.conf", "a") as f:
            f.write(f"tls_cert = {pair.cert}\ntls_key = {pair.key}\n")
        user = self.mail_user()
        cmd, _ = pair.wrap(["/usr/sbin/pop3d", "-t", "-l", f"127.0.0.1:{free_port()}"])
        r = run(*cmd)
        self.assertEqual(r.returncode, 0, pair.how + "\n" + r.stdout + r.stderr)
        self.assertIn(f"TLS certificate {pair.cert} and key {pair.key} load", r.stdout)

        # listen with a /tls listener, as README.Debian says ...
        plain, tls = free_port(), free_port()
        cmd, cert = pair.wrap(["/usr/sbin/pop3d", "-f", "-l", f"127.0.0.1:{plain}", "-l", f"127.0.0.1:{tls}/tls"])
        self.daemon(cmd, lambda: greets(plain) and os.path.exists(cert))
        self.check_tls(user, cert, plain, tls)
        # ... and the sockets of pop3d-activate.socket and pop3s-activate.socket
        # handed over as systemd does (the fd named pop3s speaks TLS).
        self.assertIn("FileDescriptorName=pop3s", self.unit_lines("pop3s-activate.socket"))
        for unit in ("pop3d-activate.socket", "pop3s-activate.socket"):
            self.assertIn("Service=pop3d.service", self.unit_lines(unit))
        if not shutil.which("systemd-socket-activate"):
            self.skipTest("systemd-socket-activate (package systemd) not installed: pop3s-activate.socket untried")
        plain, tls = free_port(), free_port()
        cmd, cert = pair.wrap(["systemd-socket-activate", "-l", f"127.0.0.1:{plain}", "-l", f"127.0.0.1:{tls}",
                               "--fdname=pop3d-activate.socket:pop3s", "/usr/sbin/pop3d", "-f"])
        self.daemon(cmd, lambda: greets(plain) and os.path.exists(cert))
        self.check_tls(user, cert, plain, tls)

    @staticmethod
    def unit_lines(unit):
        with open(os.path.join(UNITS, unit)) as f:
            return [line.strip() for line in f]

    def check_tls(self, user, cert, plain, tls):
        context = ssl.create_default_context(cafile=cert)
        context.check_hostname = False  # the snakeoil certificate names the host
        pop = poplib.POP3("127.0.0.1", plain, timeout=10)
        self.assertIn("STLS", pop.capa())
        pop.stls(context=context)
        self.assertNotIn("STLS", pop.capa())
        self.log_in(pop, user)
        pop.quit()
        pop = poplib.POP3_SSL("127.0.0.1", tls, timeout=10, context=context)
        self.log_in(pop, user)
        pop.quit()

    def test_the_start_at_install_asks_policy_rc_d(self):
        """As if systemd ran (a /run/systemd/system and a systemctl that
        logs), in a mount namespace: with a policy-rc.d that says 101 the
        install does not start pop3d.service; with one that says 0 it does
        (so the first part could see a start)."""
        tmp = tempfile.mkdtemp(prefix="pop3d-deb-policy-")
        self.addCleanup(shutil.rmtree, tmp)
        os.makedirs(os.path.join(tmp, "run-systemd", "system"))
        os.makedirs(os.path.join(tmp, "bin"))
        log = os.path.join(tmp, "log")
        self.script(os.path.join(tmp, "bin", "systemctl"),
                    f'echo "systemctl $*" >>{log}\n'
                    'case " $* " in *" is-enabled "*) echo enabled;; *" is-active "*) exit 3;; esac\n')
        if not os.path.lexists("/usr/sbin/policy-rc.d"):
            # Bound over below; this one is only its mount point.
            self.script("/usr/sbin/policy-rc.d", "exit 101\n")
            self.addCleanup(os.unlink, "/usr/sbin/policy-rc.d")
        created_run_systemd = not os.path.isdir("/run/systemd")
        if created_run_systemd:
            os.mkdir("/run/systemd")
            self.addCleanup(os.rmdir, "/run/systemd")

        for code in (101, 0):
            self.script(os.path.join(tmp, "policy-rc.d"), f'echo "policy-rc.d $*" >>{log}\nexit {code}\n')
            if os.path.exists(log):
                os.unlink(log)
            out = self.install(prefix=private_mounts(
                f"mount --bind {tmp}/run-systemd /run/systemd\n"
                f"mount --bind {tmp}/policy-rc.d /usr/sbin/policy-rc.d\n"
                f'PATH={tmp}/bin:$PATH exec "$@"'))
            with open(log) as f:
                calls = f.read().splitlines()
            self.assertIn("policy-rc.d pop3d.service start", calls, out)
            starts = [c for c in calls if c.startswith("systemctl") and {"start", "restart"} & set(c.split())]
            if code == 101:
                self.assertIn("policy-rc.d returned 101, not running 'start pop3d.service'", out)
                self.assertEqual(starts, [], calls)
            else:
                self.assertEqual(starts, ["systemctl --quiet --system start pop3d.service"], calls)
            self.assertFalse(any("socket" in c for c in calls), calls)
            self.purge()

    @staticmethod
    def script(path, body):
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)


if __name__ == "__main__":
    unittest.main()
