"""Locks: one session per maildrop (a second gets [IN-USE] at once, a killed
one leaves no lock, other users go on), dotlocks held by other programs,
stale and pid-less dotlocks, and fcntl locks of MDAs and MUAs."""

import fcntl
import os
import socket
import struct
import subprocess
import time
import unittest

from fixtures import simple
from harness import EnvTestCase, have


class OneSessionPerMaildropTest(EnvTestCase):
    def test_second_session_gets_in_use_at_once_and_the_first_goes_on(self):
        self.env.write_mailbox("alice", simple(2))
        first = self.connect()
        self.assertTrue(first.login().startswith(b"+OK"))
        second = self.connect()
        start = time.monotonic()
        reply = second.login()
        self.assertLess(time.monotonic() - start, 0.9)  # no waiting for lock_timeout
        self.assertTrue(reply.startswith(b"-ERR [IN-USE] "), reply)
        self.assertEqual(first.cmd("NOOP"), b"+OK")
        first.cmd("DELE 1")
        self.assertTrue(first.cmd("QUIT").startswith(b"+OK"))
        third = self.connect()  # released at QUIT
        self.assertTrue(third.login().startswith(b"+OK maildrop has 1 message "))

    def test_killed_session_leaves_no_lock(self):
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sock.close()
        deadline = time.monotonic() + 5
        while True:
            reply = self.connect().login()
            if reply.startswith(b"+OK") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertTrue(reply.startswith(b"+OK"), reply)

    def test_other_users_are_not_affected(self):
        self.env.write_mailbox("alice", simple(1))
        self.env.write_mailbox("bob", simple(1))
        a = self.connect()
        self.assertTrue(a.login().startswith(b"+OK"))
        self.assertTrue(self.connect().login("bob").startswith(b"+OK"))


@unittest.skipUnless(have("dotlockfile"), "dotlockfile (liblockfile-bin) not installed")
class LockTest(EnvTestCase):
    config = {"lock_timeout": "1"}

    def dotlock(self, *args):
        return subprocess.run(["dotlockfile", *args, self.env.mailbox("alice") + ".lock"], check=False)

    def test_held_dotlock_gives_in_use_then_clears(self):
        self.env.write_mailbox("alice", simple(2))
        self.assertEqual(self.dotlock("-l", "-r", "0").returncode, 0)
        try:
            c = self.connect()
            reply = c.login()
            self.assertTrue(reply.startswith(b"-ERR [IN-USE] "), reply)
            self.assertIn(b"lock", reply)
        finally:
            self.dotlock("-u")
        self.assertTrue(self.connect().login().startswith(b"+OK"))

    def test_lock_held_at_quit_deletes_nothing_and_leaves_no_lock(self):
        data = simple(2)
        self.env.write_mailbox("alice", data)
        c = self.connect()
        c.login()
        c.cmd("DELE 1")
        self.assertEqual(self.dotlock("-l", "-r", "0").returncode, 0)
        try:
            self.assertEqual(c.cmd("QUIT"),
                             b"-ERR [SYS/TEMP] maildrop locked by another program, no messages deleted")
        finally:
            self.dotlock("-u")
        self.assertEqual(self.env.read_mailbox("alice"), data)
        self.assertFalse(os.path.exists(self.env.mailbox("alice") + ".lock"))
        self.assertTrue(self.connect().login().startswith(b"+OK"))


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
