"""No message lost or damaged at QUIT: exactly the marked messages go, a
dropped connection or RSET deletes nothing, a mailbox rewritten meanwhile is
left alone, kill -9 at every instant of an expunge, a full disk, and owner,
group and mode survive."""

import os
import random
import signal
import socket
import struct
import subprocess
import time
import unittest

from fixtures import simple
from harness import BUILD_TESTS, IS_ROOT, Env, EnvTestCase, Raw, mbox_message


def uidl_map(c):
    _, body = c.multiline("UIDL")
    return dict(l.split(b" ") for l in body.split(b"\r\n")[:-2])


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


class ExpungeTest(EnvTestCase):
    def test_dele_quit_removes_exactly_the_marked_messages(self):
        msgs = [mbox_message(f"s{i}@x", f"Thu Nov 26 10:00:0{i} 2026", [f"Subject: {i}"], b"body %d\n" % i)
                for i in range(1, 6)]
        self.env.write_mailbox("alice", b"".join(msgs))
        c = self.connect()
        c.login()
        uids = uidl_map(c)
        for n in (2, 4):
            self.assertEqual(c.cmd(f"DELE {n}"), b"+OK message %d deleted" % n)
        self.assertEqual(c.cmd("QUIT"), b"+OK pop3d signing off (2 messages deleted)")
        self.assertEqual(self.env.read_mailbox("alice"), msgs[0] + msgs[2] + msgs[4])
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 3 messages"))
        after = uidl_map(c)
        self.assertEqual(list(after.values()), [uids[b"1"], uids[b"3"], uids[b"5"]])
        self.assertFalse(os.path.exists(self.env.mailbox("alice") + ".lock"))
        # End the session here: a session left to end at cleanup may still
        # hold the maildrop when the next test logs in ([IN-USE]).
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))

    def test_rset_then_quit_deletes_nothing(self):
        data = simple(3)
        self.env.write_mailbox("alice", data)
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        c.cmd("RSET")
        c.cmd("QUIT")
        self.assertEqual(self.env.read_mailbox("alice"), data)

    def test_dropped_connection_deletes_nothing(self):
        data = simple(3)
        self.env.write_mailbox("alice", data)
        c = self.connect()
        c.login()
        for n in (1, 2, 3):
            c.cmd(f"DELE {n}")
        # Reset the connection (RST), as a crashed client would.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sock.close()
        time.sleep(0.3)
        self.assertEqual(self.env.read_mailbox("alice"), data)
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 3 messages"))

    def rewrite_in_place(self, data):
        with open(self.env.mailbox("alice"), "r+b") as f:  # as a MUA would, in place
            f.write(data)
            f.truncate()

    def test_mailbox_rewritten_during_the_session_is_left_alone(self):
        self.env.write_mailbox("alice", simple(3))
        c = self.connect()
        c.login()
        rewritten = simple(2, "rewritten")
        self.rewrite_in_place(rewritten)
        self.assertEqual(c.cmd("RETR 1"), b"-ERR [SYS/TEMP] mailbox changed since login, message unavailable")
        self.assertEqual(c.cmd("TOP 2 0"), b"-ERR [SYS/TEMP] mailbox changed since login, message unavailable")
        # The session goes on, read-only.
        self.assertEqual(c.cmd("DELE 1"),
                         b"-ERR [SYS/TEMP] mailbox changed by another program, deleting is off for this session")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 3 "))
        self.assertEqual(c.cmd("QUIT"), b"+OK pop3d signing off (0 messages deleted)")
        self.assertEqual(self.env.read_mailbox("alice"), rewritten)
        self.assertTrue(self.connect().login().startswith(b"+OK"))

    def test_deletions_made_before_a_rewrite_are_not_carried_out(self):
        self.env.write_mailbox("alice", simple(3))
        c = self.connect()
        login = c.login()
        self.assertTrue(login.startswith(b"+OK"), login)
        self.assertTrue(c.cmd("DELE 1").startswith(b"+OK"))
        rewritten = simple(4, "rewritten")  # longer: only the From_ lines tell
        self.rewrite_in_place(rewritten)
        self.assertEqual(c.cmd("QUIT"), b"-ERR [SYS/TEMP] mailbox changed by another program, no messages deleted")
        self.assertEqual(self.env.read_mailbox("alice"), rewritten)
        self.assertIn("expunge failed user=alice", self.env.log_text())


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
