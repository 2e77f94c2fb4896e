"""The Debian package (make deb, contrib/debian): it builds with
dpkg-buildpackage, installs with dpkg, its pop3d serves a real user's
/var/mail mailbox through its own /etc/pam.d/pop3 with nothing configured,
and a purge leaves nothing behind.

Installs a package and a user: run only on a throw-away machine, as root,
with POP3D_SYSTEM_TESTS=1 (CI does)."""

import glob
import os
import poplib
import shutil
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from free_ports import free_port  # noqa: E402

USER, PASSWORD = "pop3t-deb", "Deb-Pw-7?"
INSTALLED = ["/usr/sbin/pop3d", "/etc/pop3d.conf", "/etc/pam.d/pop3", "/usr/share/man/man8/pop3d.8.gz",
             "/usr/share/man/man5/pop3d.conf.5.gz", "/lib/systemd/system/pop3d.service",
             "/lib/systemd/system/pop3d.socket", "/lib/systemd/system/pop3d@.service",
             "/etc/fail2ban/filter.d/pop3d.conf", "/usr/share/doc/pop3d/examples/inetd/pop3d.inetd"]


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@unittest.skipUnless(os.geteuid() == 0, "needs root")
@unittest.skipUnless(shutil.which("dpkg-buildpackage") and shutil.which("dh"), "dpkg-dev or debhelper not installed")
class DebianPackageTest(unittest.TestCase):
    def setUp(self):
        if os.path.exists("/etc/pam.d/pop3") or run("dpkg", "-s", "pop3d").returncode == 0:
            self.skipTest("/etc/pam.d/pop3 or a pop3d package is already on this machine")

    def purge(self):
        run("dpkg", "--purge", "pop3d")
        run("userdel", "-f", USER)
        for path in (f"/var/mail/{USER}", f"/var/mail/{USER}.lock"):
            if os.path.lexists(path):
                os.unlink(path)

    def test_package_builds_installs_serves_and_purges(self):
        r = run("make", "-s", "-C", ROOT, "deb", timeout=900)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = glob.glob(os.path.join(ROOT, "build", "deb", "pop3d_*.deb"))
        self.assertEqual(len(debs), 1, debs)
        self.addCleanup(self.purge)
        r = run("dpkg", "-i", debs[0], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        listed = run("dpkg", "-L", "pop3d").stdout.split()
        for path in INSTALLED:
            self.assertIn(path, listed)
            self.assertTrue(os.path.exists(path), path)
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "pop3d").stdout
        self.assertIn("/etc/pop3d.conf", conffiles)
        self.assertIn("/etc/pam.d/pop3", conffiles)
        self.assertTrue(os.path.islink("/etc/systemd/system/multi-user.target.wants/pop3d.service"))

        port = free_port()
        r = run("/usr/sbin/pop3d", "-t", "-l", f"127.0.0.1:{port}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok: PAM service file /etc/pam.d/pop3 exists", r.stdout)
        self.assertIn("configuration OK (/etc/pop3d.conf)", r.stdout)

        # The installed daemon, the packaged PAM file, a real user and mailbox.
        run("userdel", "-f", USER)
        subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", USER], check=True)
        subprocess.run(["chpasswd"], input=f"{USER}:{PASSWORD}\n".encode(), check=True)
        mbox = f"/var/mail/{USER}"
        with open(mbox, "wb") as f:
            f.write(b"From a@example.org Thu Nov 26 10:00:00 2026\nSubject: packaged\n\nhello\n")
        shutil.chown(mbox, USER, "mail")
        os.chmod(mbox, 0o660)
        daemon = subprocess.Popen(["/usr/sbin/pop3d", "-f", "-l", f"127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(daemon.wait)
        self.addCleanup(daemon.terminate)
        for _ in range(100):
            try:
                pop = poplib.POP3("127.0.0.1", port, timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        pop.user(USER)
        pop.pass_(PASSWORD)
        self.assertEqual(pop.stat(), (1, len(b"Subject: packaged\r\n\r\nhello\r\n")))
        self.assertEqual(pop.retr(1)[1], [b"Subject: packaged", b"", b"hello"])
        pop.dele(1)
        pop.quit()
        self.assertEqual(os.path.getsize(mbox), 0)
        daemon.terminate()
        daemon.wait(timeout=30)

        r = run("dpkg", "--purge", "pop3d")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for path in INSTALLED + ["/etc/systemd/system/multi-user.target.wants/pop3d.service"]:
            self.assertFalse(os.path.lexists(path), path)


if __name__ == "__main__":
    unittest.main()
