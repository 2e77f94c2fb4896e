"""No one reads mail that isn't theirs; no mail is lost: hostile mailboxes,
dropped connections, concurrent delivery with real procmail, locks."""

import os
import re
import socket
import struct
import subprocess
import threading
import time
import unittest

from fixtures import simple
from harness import IS_ROOT, EnvTestCase, have, mbox_message, unstuff


def uidl_map(c):
    _, body = c.multiline("UIDL")
    return dict(l.split(b" ") for l in body.split(b"\r\n")[:-2])


class HostileMailboxTest(EnvTestCase):
    def refused(self, user="alice"):
        c = self.connect()
        return c.login(user)

    def test_symlinked_mailbox_is_refused(self):
        self.env.write_mailbox("bob", simple(2, "bob-secret"))
        path = self.env.mailbox("alice")
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(self.env.mailbox("bob"), path)
        before = self.env.read_mailbox("bob")
        self.assertEqual(self.refused(), b"-ERR [SYS/PERM] cannot open the maildrop, contact your administrator")
        self.assertIn("is a symbolic link", self.env.log_text())
        self.assertEqual(self.env.read_mailbox("bob"), before)

    @unittest.skipUnless(IS_ROOT, "needs root to give the mailbox to another uid")
    def test_foreign_owned_mailbox_is_refused(self):
        # 0660 bob:mail: after the drop the kernel itself says no.
        self.env.write_mailbox("alice", simple(1), owner="bob")
        self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))
        self.assertIn("alice: Permission denied", self.env.log_text())
        # 0666: readable, but the fstat owner check refuses it.
        self.env.write_mailbox("alice", simple(1), owner="bob", mode=0o666)
        self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))
        self.assertRegex(self.env.log_text(), r"alice is owned by uid \d+, not uid \d+")

    def test_world_writable_mailbox_is_refused(self):
        self.env.write_mailbox("alice", simple(1), mode=0o666)
        self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))
        self.assertIn("alice is writable by everyone (chmod o-w it)", self.env.log_text())

    @unittest.skipUnless(IS_ROOT, "needs root to make a root-only file")
    def test_root_only_file_cannot_be_read_after_login(self):
        # The session runs as alice from the login on (process or thread):
        # the kernel refuses a root-only file even at the mailbox path.
        self.env.write_mailbox("alice", simple(1))
        os.chown(self.env.mailbox("alice"), 0, 0)
        os.chmod(self.env.mailbox("alice"), 0o600)
        self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))
        self.assertIn("alice: Permission denied", self.env.log_text())

    def test_mailbox_of_another_uid_is_refused(self):
        # dave's uid differs from the file's owner both as root and not
        # (without root dave is never served at all: a wrong password's answer).
        self.env.write_mailbox("dave", simple(1), owner="alice")
        self.assertTrue(self.refused("dave").startswith(b"-ERR [SYS/PERM]" if IS_ROOT else b"-ERR [AUTH]"))

    def test_hard_linked_mailbox_is_refused(self):
        self.env.write_mailbox("alice", simple(1))
        link = os.path.join(self.env.dir, "hardlink")
        os.link(self.env.mailbox("alice"), link)
        self.addCleanup(os.unlink, link)
        self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))

    def test_fifo_directory_and_device_are_refused_without_hanging(self):
        path = self.env.mailbox("alice")
        for make in (lambda: os.mkfifo(path, 0o660), lambda: os.mkdir(path),
                     lambda: os.symlink("/dev/zero", path)):
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            elif os.path.lexists(path):
                os.unlink(path)
            make()
            if IS_ROOT:
                os.lchown(path, self.env.uids["alice"], self.env.mail_gid)
            start = time.monotonic()
            self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))
            self.assertLess(time.monotonic() - start, 5)
        os.rmdir(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)

    def test_not_an_mbox_is_refused(self):
        self.env.write_mailbox("alice", b"Subject: no From_ line\n\nhello\n")
        self.assertTrue(self.refused().startswith(b"-ERR [SYS/PERM]"))
        self.assertIn("not an mbox file", self.env.log_text())


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


if __name__ == "__main__":
    unittest.main()
