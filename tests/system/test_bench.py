"""make bench's machinery, on a tiny workload (run_bench.py --smoke): it
fetches popa3d and Dovecot from the Debian archive, runs every server in
its private mount namespace with the real PAM stack, and prints the table.
Timings mean nothing here; what is checked is that every server served
the workload and left the right mailbox after the expunge, and that the
machine is as it was (no bench user, no mount left behind).

Needs root and the Debian archive: run with POP3D_SYSTEM_TESTS=1 (CI does)."""

import os
import pwd
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def can_make_mount_namespaces():
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs none /mnt && mkdir /mnt/l /mnt/u /mnt/w && "
                        "mount -t overlay overlay -o lowerdir=/mnt/l,upperdir=/mnt/u,workdir=/mnt/w /mnt/l"],
                       capture_output=True)
    return r.returncode == 0


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class BenchSmokeTest(unittest.TestCase):
    def setUp(self):
        if not can_make_mount_namespaces():
            self.skipTest("no mount namespaces or overlayfs here (a container?): make bench cannot run")

    def test_every_server_serves_the_workload_and_the_machine_is_unchanged(self):
        r = subprocess.run(["make", "-s", "-C", ROOT, "bench-tools"], capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run_bench.py"), "--smoke"],
                           capture_output=True, text=True, timeout=900)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("workload smoke: 2,000 messages", out)
        servers = ["pop3d"] if "peers unavailable" in out else ["pop3d", "popa3d", "dovecot", "dovecot-index"]
        header = next(line for line in out.splitlines() if "pop3d/popa3d" in line)
        self.assertEqual(header.split()[:len(servers)], servers, out)
        row = next(line for line in out.splitlines() if "mailbox right after QUIT" in line)
        self.assertEqual(row.split()[-len(servers):], ["ok"] * len(servers), out)
        self.assertRegex(out, r"\d+ of \d+ targets met")
        with self.assertRaises(KeyError):
            pwd.getpwnam("benchu1")
        with open("/proc/self/mounts") as f:
            self.assertNotIn("pop3d-bench", f.read())


if __name__ == "__main__":
    unittest.main()
