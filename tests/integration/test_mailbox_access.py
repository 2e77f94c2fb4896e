"""No one reads mail that isn't theirs: mailboxes that are symlinks, hard
links, foreign-owned, world-writable, of another uid, not regular files or
not mbox are refused, and nothing root-only is read after login."""

import os
import time
import unittest

from fixtures import simple
from harness import IS_ROOT, EnvTestCase


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
