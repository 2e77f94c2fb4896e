"""No message lost or damaged: stale and foreign locks, kill -9 at every
instant of an expunge, a full disk, and real procmail deliveries during
sessions."""

import fcntl
import os
import random
import re
import signal
import subprocess
import time
import unittest

from fixtures import simple
from delivery_workload import DeliveryWorkload
from harness import BUILD_TESTS, IS_ROOT, SANITIZED, Env, EnvTestCase, Raw, have, mbox_message


def mailbox_messages(n, seed, big_every=7):
    """n messages of varied size (a few of 100-300 KB), as separate mbox entries."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        size = rnd.randint(100_000, 300_000) if i % big_every == min(3, big_every - 1) else rnd.randint(200, 5000)
        body = b"".join(b"%d line of message %d %s\n" % (k, i, b"x" * rnd.randint(0, 70))
                        for k in range(size // 60 + 1))
        out.append(mbox_message(f"s{i}@example.org", f"Thu Nov 26 10:{i // 60 % 60:02d}:{i % 60:02d} 2026",
                                [f"Subject: message {i}", f"Message-ID: <{seed}.{i}@x>"], body))
    return out


def session_pids(env):
    from test_auth import pop3d_children_of
    return pop3d_children_of(env)


class LockRulesTest(EnvTestCase):
    launcher = "tcpserver"
    config = {"lock_timeout": "1"}

    def lock_path(self):
        return self.env.mailbox("alice") + ".lock"

    def write_lock(self, content, age=0):
        with open(self.lock_path(), "w") as f:
            f.write(content)
        if age:
            t = time.time() - age
            os.utime(self.lock_path(), (t, t))

    def test_dotlock_of_a_dead_process_is_broken(self):
        self.env.write_mailbox("alice", simple(1))
        p = subprocess.Popen(["true"])
        p.wait()
        self.write_lock(f"{p.pid}\n")
        self.assertTrue(self.connect().login().startswith(b"+OK"))
        self.assertFalse(os.path.exists(self.lock_path()))
        self.assertIn(f"(its process {p.pid} is gone)", self.env.log_text())

    def test_fresh_dotlock_of_a_live_process_is_respected(self):
        data = simple(1)
        self.env.write_mailbox("alice", data)
        self.write_lock(f"{os.getpid()}\n")
        self.assertTrue(self.connect().login().startswith(b"-ERR [IN-USE]"))
        self.assertTrue(os.path.exists(self.lock_path()))
        self.assertEqual(self.env.read_mailbox("alice"), data)
        os.unlink(self.lock_path())

    def test_dotlock_without_a_pid_is_respected_until_it_is_old(self):
        self.env.write_mailbox("alice", simple(1))
        self.write_lock("0")  # procmail writes no pid
        self.assertTrue(self.connect().login().startswith(b"-ERR [IN-USE]"))
        self.write_lock("0", age=301)  # older than dotlock_stale_age
        self.assertTrue(self.connect().login().startswith(b"+OK"))
        self.assertFalse(os.path.exists(self.lock_path()))

    def test_fcntl_lock_held_by_another_program_means_in_use(self):
        data = simple(2)
        self.env.write_mailbox("alice", data)
        with open(self.env.mailbox("alice"), "r+b") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)  # a POSIX lock, as MDAs and MUAs take
            start = time.monotonic()
            reply = self.connect().login()
            self.assertTrue(reply.startswith(b"-ERR [IN-USE]"), reply)
            self.assertLess(time.monotonic() - start, 3)  # lock_timeout = 1
            self.assertFalse(os.path.exists(self.lock_path()), "the dotlock is not kept while waiting")
        self.assertEqual(self.env.read_mailbox("alice"), data)
        self.assertTrue(self.connect().login().startswith(b"+OK"))


class KillDuringExpungeTest(unittest.TestCase):
    """kill -9 at random instants of an expunge: every kept message stays
    intact and the mailbox still indexes. `make soak` runs thousands."""
    trials = int(os.environ.get("POP3D_SOAK_TRIALS", "200"))

    def test_kill_at_random_instants(self):
        env = Env(config={"lock_timeout": "5"})
        self.addCleanup(env.close)
        env.extra_env = {"POP3D_TEST_EXPUNGE_PAUSE_MS": "4"}
        env.start("tcpserver")
        rnd = random.Random(int(os.environ.get("POP3D_SOAK_SEED", "1")))
        outcomes = {"old": 0, "new": 0}
        msgs_cache = {seed: mailbox_messages(14, seed) for seed in range(4)}
        for trial in range(self.trials):
            msgs = msgs_cache[trial % 4]
            original = b"".join(msgs)
            env.write_mailbox("alice", original)
            n = len(msgs)
            deleted = sorted(rnd.sample(range(n), rnd.randint(1, n - 1)))
            if trial % 5 == 0:  # sometimes only the last ones: the ftruncate path
                deleted = list(range(n - rnd.randint(1, 3), n))
            expected = b"".join(m for i, m in enumerate(msgs) if i not in deleted)
            c = Raw(env.port, timeout=30)
            self.assertTrue(c.login().startswith(b"+OK"))
            pids = session_pids(env)
            c.send("".join(f"DELE {i + 1}\r\n" for i in deleted))
            for _ in deleted:
                c.line()
            c.send("QUIT\r\n")
            time.sleep(rnd.uniform(0, 0.035))
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            c.close()
            for pid in pids:  # wait until it is really gone (or a zombie)
                while True:
                    try:
                        with open(f"/proc/{pid}/stat") as f:
                            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                                break
                    except OSError:
                        break
                    time.sleep(0.001)
            data = env.read_mailbox("alice")
            if data == original:
                outcomes["old"] += 1
            elif data == expected:
                outcomes["new"] += 1
            else:
                self.fail(f"trial {trial}: the mailbox is neither the old nor the new one "
                          f"({len(data)} bytes; old {len(original)}, new {len(expected)})")
            # It still indexes, and the killed session's locks do not block.
            c = Raw(env.port, timeout=30)
            reply = c.login()
            self.assertTrue(reply.startswith(b"+OK"), f"trial {trial}: {reply}")
            self.assertEqual(int(c.cmd("STAT").split()[1]), n if data == original else n - len(deleted))
            c.cmd("QUIT")
            c.close()
        print(f"\n  kill -9 during expunge: {self.trials} trials, old file kept {outcomes['old']}, "
              f"new file complete {outcomes['new']}", flush=True)
        self.assertGreater(outcomes["old"], 0)
        self.assertGreater(outcomes["new"], 0)


class FullDiskTest(EnvTestCase):
    launcher = "tcpserver"

    @classmethod
    def setUpClass(cls):
        cls.shim = os.path.join(BUILD_TESTS, "libfailwrite.so")
        if not os.path.exists(cls.shim):
            raise unittest.SkipTest("build/tests/libfailwrite.so not built (make check builds it)")
        super().setUpClass()

    def restart_with_faults(self, **faults):
        self.env.stop()
        self.env.extra_preload = [self.shim]
        self.env.extra_env = {"FAILWRITE_MATCH": ":pop3d-new", **{k: str(v) for k, v in faults.items()}}
        self.env.start()

    def check_nothing_deleted(self, faults, expected_log):
        msgs = mailbox_messages(8, 7)
        original = b"".join(msgs)
        self.env.write_mailbox("alice", original)
        st = os.stat(self.env.mailbox("alice"))
        self.restart_with_faults(**faults)
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        c.cmd("DELE 1")
        c.cmd("DELE 5")
        self.assertEqual(c.cmd("QUIT"), b"-ERR [SYS/TEMP] no messages deleted, try again later")
        self.assertEqual(self.env.read_mailbox("alice"), original)
        self.assertEqual(os.stat(self.env.mailbox("alice")).st_ino, st.st_ino)
        self.assertFalse(os.path.exists(self.env.mailbox("alice") + ":pop3d-new"))
        self.assertFalse(os.path.exists(self.env.mailbox("alice") + ".lock"))
        self.assertIn(expected_log, self.env.log_text())
        # With room again, the same deletions succeed.
        self.env.stop()
        self.env.extra_preload, self.env.extra_env = [], {}
        self.env.start()
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.env.read_mailbox("alice"), b"".join(msgs[1:]))

    def test_enospc_at_the_start(self):
        self.check_nothing_deleted({"FAILWRITE_AFTER": 0}, "No space left on device; no messages deleted")

    def test_enospc_in_the_middle(self):
        self.check_nothing_deleted({"FAILWRITE_AFTER": 100_000}, "No space left on device; no messages deleted")

    def test_quota(self):
        self.check_nothing_deleted({"FAILWRITE_AFTER": 5000, "FAILWRITE_ERRNO": 122}, "Disk quota exceeded")

    def test_fsync_error(self):
        self.check_nothing_deleted({"FAILWRITE_FSYNC": 1, "FAILWRITE_AFTER": 10**9}, "fsync")


@unittest.skipUnless(IS_ROOT, "needs root to mount a small tmpfs")
class RealFullDiskTest(unittest.TestCase):
    def test_tmpfs_too_small_for_the_rewrite(self):
        env = Env()
        self.addCleanup(env.close)
        small = os.path.join(env.dir, "small")
        os.mkdir(small)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=2775", "tmpfs", small],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        self.addCleanup(lambda: subprocess.run(["umount", "-l", small]))
        os.chown(small, 0, env.mail_gid)
        env.write_config(mailbox=os.path.join(small, "%u"))
        # About 400 KB in a 512 KB file system: no room for a second copy.
        msgs = [mbox_message(f"s{i}@x", f"Thu Nov 26 10:00:0{i} 2026", [f"Subject: big {i}"],
                             (b"%d" % i) * 130_000 + b"\n") for i in range(3)]
        original = b"".join(msgs)
        path = os.path.join(small, "alice")
        with open(path, "wb") as f:
            f.write(original)
        os.chown(path, env.uids["alice"], env.mail_gid)
        os.chmod(path, 0o660)
        env.start("tcpserver")
        c = Raw(env.port)
        self.assertTrue(c.login().startswith(b"+OK"))
        c.cmd("DELE 1")
        self.assertEqual(c.cmd("QUIT"), b"-ERR [SYS/TEMP] no messages deleted, try again later")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual(sorted(os.listdir(small)), ["alice"])
        self.assertIn("No space left on device", env.log_text())


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


class OwnershipTest(EnvTestCase):
    def test_owner_group_and_mode_survive_an_expunge(self):
        for mode in (0o660, 0o600):
            self.env.write_mailbox("alice", simple(4), mode=mode)
            before = os.stat(self.env.mailbox("alice"))
            c = self.connect()
            c.login()
            c.cmd("DELE 2")
            self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
            after = os.stat(self.env.mailbox("alice"))
            self.assertEqual((after.st_uid, after.st_gid, after.st_mode), (before.st_uid, before.st_gid, before.st_mode))


if __name__ == "__main__":
    unittest.main()
