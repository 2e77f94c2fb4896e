"""Mail delivered during a session is kept: real procmail deliveries beside
sessions, every message exactly once and whole, and no MDA waits for pop3d."""

import os
import re
import subprocess
import threading
import time
import unittest

from delivery_workload import DeliveryWorkload
from harness import SANITIZED, EnvTestCase, Raw, have, unstuff


@unittest.skipUnless(have("procmail"), "procmail not installed")
class DeliveryDuringSessionTest(EnvTestCase):
    """Real procmail delivering (dotlock + fcntl) while sessions run."""

    def procmail(self, n, tag):
        rc = os.path.join(self.env.dir, "procmailrc")
        with open(rc, "w") as f:
            f.write(f"SHELL=/bin/sh\nLOCKSLEEP=1\nDEFAULT={self.env.mailbox('alice')}\n")
        msg = f"From: {tag}@example.org\nSubject: delivery {tag} {n}\nMessage-ID: <{tag}.{n}@x>\n\nbody {tag} {n}\n"
        r = subprocess.run(["procmail", "-f", f"{tag}@example.org", "-m", rc], input=msg.encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def subjects(self):
        return sorted(re.findall(rb"^Subject: (.*)$", self.env.read_mailbox("alice"), re.M))

    def test_mail_delivered_during_a_session_is_kept(self):
        self.env.write_mailbox("alice", b"")
        self.procmail(1, "old")
        self.procmail(2, "old")
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        start = time.monotonic()
        self.procmail(3, "new")  # the session holds no lock: delivery is immediate
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(c.cmd("STAT").split()[1], b"1")  # the snapshot does not change
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.subjects(), [b"delivery new 3", b"delivery old 2"])
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 2 messages"))

    def test_concurrent_sessions_and_deliveries_lose_nothing(self):
        self.env.write_mailbox("alice", b"")
        for i in range(10):
            self.procmail(i, "base")
        errors = []

        def deliver():
            try:
                for i in range(20):
                    self.procmail(i, "live")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        deleted = []

        def pop_one():
            try:
                c = self.connect()
                if not c.login().startswith(b"+OK"):
                    return  # [IN-USE] while another expunges is fine
                status, body = c.multiline("RETR 1")
                if body is None:
                    return
                subject = re.search(rb"^Subject: (.*)\r$", unstuff(body), re.M).group(1)
                c.cmd("DELE 1")
                if c.cmd("QUIT").startswith(b"+OK"):
                    deleted.append(subject)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=deliver)
        t.start()
        for _ in range(8):
            pop_one()
        t.join()
        self.assertEqual(errors, [])
        expected = sorted({b"delivery base %d" % i for i in range(10)} | {b"delivery live %d" % i for i in range(20)})
        remaining = self.subjects()
        self.assertEqual(len(remaining) + len(deleted), 30)
        self.assertEqual(sorted(remaining + deleted), expected)
        # Every remaining message is whole.
        c = self.connect()
        c.login()
        n = int(c.cmd("STAT").split()[1])
        for i in range(1, n + 1):
            _, body = c.multiline(f"RETR {i}")
            self.assertRegex(unstuff(body), rb"\r\n\r\nbody (base|live) \d+\r\n$")


@unittest.skipUnless(have("procmail"), "procmail not installed")
class ConcurrentDeliveryTest(EnvTestCase):
    """Real procmail deliveries while sessions log in, retrieve, delete and
    quit in a loop. The spool is on tmpfs when there is one, so that the
    timings measure locking, not this machine's disk (an fsync can take a
    second on a busy VM)."""
    config = {"lock_timeout": "10"}
    base_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

    def setUp(self):
        self.env.write_mailbox("alice", b"")
        self.work = DeliveryWorkload(self.env.mailbox("alice"), self.env.dir)

    def connect_raw(self):
        return Raw(self.env.port, timeout=30)

    def test_every_message_exactly_once_and_whole(self):
        # Four procmails deliver 100 messages into one mailbox.
        self.work.run(4, 25, {"pop": self.connect_raw})
        remaining = self.work.check_every_message_once_and_whole(self, 4, 25, self.connect_raw)
        print(f"\n  100 deliveries by 4 procmails: {len(self.work.deleted)} deleted by "
              f"{len(self.work.quit_times)} sessions, {len(remaining)} left, all whole", flush=True)

    def test_nobody_waits_for_pop3d(self):
        """One procmail (so procmails do not wait for each other). A delivery
        that meets a session's lock work waits one LOCKSLEEP second, no more.
        A QUIT waits at most for a delivery's lock work, which can itself be a
        second: procmail sleeps LOCKSLEEP while holding its locks when the
        mailbox changed between its stat() and its lock (strace shows it)."""
        self.work.run(1, 30, {"pop": self.connect_raw})
        self.assertEqual(self.work.errors, [])
        waits = [int(w) for w in re.findall(r"\(waited (\d+) ms for the locks\)", self.env.log_text())]
        print(f"\n  30 deliveries during {len(self.work.quit_times)} sessions: slowest delivery "
              f"{max(self.work.delivery_times):.2f} s, slowest QUIT {max(self.work.quit_times):.2f} s "
              f"(lock waits at QUIT: {sorted(waits)[-3:]} ms)", flush=True)
        if SANITIZED:
            return  # an instrumented daemon's lock work takes longer: times mean nothing
        self.assertLess(max(self.work.delivery_times), 1.5)
        self.assertLess(max(self.work.quit_times), 1.5)
        self.assertLess(max(waits, default=0), 1300)
