"""Other programs write the mailbox too, and pop3d must neither lose their
mail nor misread it:

* a mail reader that deletes in place during a POP3 session (mutt: same
  inode, dotlock and fcntl), or a second pop3d session without a session
  lock, followed by a delivery that lands where mail was freed: the
  expunge at QUIT deletes nothing (issue 17, item 2);
* mboxcl, as procmail (for a message with a Content-Length header) and
  dovecot-lda write it: a body's "From " lines are body text, never a
  message of their own (issue 17, item 3).

Every program here is the real one; only the spool is private."""

import os
import re
import unittest

from harness import EnvTestCase, unstuff
from mail_programs import (dovecot_lda_deliver, have_dovecot_lda, have_mutt, mutt_delete, procmail_deliver)

CHANGED = b"-ERR [SYS/TEMP] mailbox changed by another program, no messages deleted"


def item(tag, pad=0):
    """A message procmail turns into an mbox entry of one fixed length (its
    From_ line has a fixed width); pad adds that many bytes in a header."""
    pad_field = f"X-Pad: {'p' * (pad - 8)}\n" if pad else ""
    return f"Subject: item-{tag}\n{pad_field}\nbody {tag}\n".encode()


class MailReaderRewritesInPlaceTest(EnvTestCase):
    """A session indexes the mailbox; mutt deletes in place; procmail
    delivers where the freed bytes were; the session's DELE and QUIT must
    then delete nothing. Today's checks (From_ lines at the indexed
    offsets, a file not shorter) all pass in these cases."""

    def setUp(self):
        super().setUp()
        if not have_mutt():
            self.skipTest("mutt (and script) not installed")
        self.env.write_mailbox("alice", b"")

    def deliver(self, *tags, pad=0):
        for tag in tags:
            procmail_deliver(self.env, "alice", item(tag, pad))

    def size(self):
        return os.path.getsize(self.env.mailbox("alice"))

    def quit_deletes_nothing(self, c):
        before = self.env.read_mailbox("alice")
        self.assertEqual(c.cmd("QUIT"), CHANGED)
        self.assertEqual(self.env.read_mailbox("alice"), before)
        log = self.env.log_text()
        self.assertRegex(log, r"expunge failed user=alice rip=127\.0\.0\.1: .*rewritten in place.*no messages deleted")

    def test_equal_length_messages_no_message_is_lost(self):
        self.deliver("a", "b", "c", "d")
        plain = self.size() // 4
        mutt_delete(self.env, "alice", "item-a")  # the rest now carries mutt's Content-Length and Lines
        length = self.size() // 3
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 3 messages"))  # b, c, d
        mutt_delete(self.env, "alice", "item-b")  # c and d move up by one message
        self.deliver("e", pad=length - plain)  # e lands where d stood
        self.assertEqual(self.size(), 3 * length)  # a From_ line at every indexed offset
        self.assertEqual(c.cmd("DELE 1"), b"+OK message 1 deleted")  # b, which mutt removed
        self.quit_deletes_nothing(c)
        data = self.env.read_mailbox("alice")
        for tag in "cde":
            self.assertIn(f"Subject: item-{tag}\n".encode(), data)

    def test_a_longer_delivery_where_the_last_message_was(self):
        self.deliver("a", "b")
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 2 messages"))
        mutt_delete(self.env, "alice", "item-b")  # the last message: mutt truncates
        self.deliver("c", pad=200)  # longer, and its From_ line where b's was
        self.assertEqual(c.cmd("DELE 2"), b"+OK message 2 deleted")
        self.quit_deletes_nothing(c)
        self.assertIn(b"Subject: item-c\nX-Pad: ", self.env.read_mailbox("alice"))

    def test_expire_0_deletes_nothing_either(self):
        self.env.write_config(expire="0")
        self.addCleanup(self.env.write_config, expire="never")
        self.deliver("a", "b")
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK maildrop has 2 messages"))
        status, _ = c.multiline("RETR 2")  # with EXPIRE 0 a retrieved message goes at QUIT
        self.assertTrue(status.startswith(b"+OK"))
        mutt_delete(self.env, "alice", "item-b")
        self.deliver("c")  # the same length as b
        self.quit_deletes_nothing(c)
        self.assertIn(b"Subject: item-c\n", self.env.read_mailbox("alice"))


class TwoSessionsWithoutSessionLockTest(EnvTestCase):
    """session_lock_dir empty: two sessions may hold one maildrop. One
    deletes the last message (a truncation), a delivery lands in its place,
    the other deletes "its" last message: nothing may go."""
    config = {"session_lock_dir": ""}

    def test_the_second_quit_deletes_nothing(self):
        self.env.write_mailbox("alice", b"")
        for tag in "ab":
            procmail_deliver(self.env, "alice", item(tag))
        first, second = self.connect(), self.connect()
        self.assertTrue(first.login().startswith(b"+OK maildrop has 2 messages"))
        self.assertTrue(second.login().startswith(b"+OK maildrop has 2 messages"))
        self.assertEqual(second.cmd("DELE 2"), b"+OK message 2 deleted")
        self.assertTrue(second.cmd("QUIT").startswith(b"+OK"))
        procmail_deliver(self.env, "alice", item("c"))  # as long as b, where b was
        self.assertEqual(first.cmd("DELE 2"), b"+OK message 2 deleted")
        before = self.env.read_mailbox("alice")
        self.assertEqual(first.cmd("QUIT"), CHANGED)
        self.assertEqual(self.env.read_mailbox("alice"), before)
        self.assertIn(b"Subject: item-c\n", before)


FORGED_BODY = (b"Hello,\n\nFrom bank@example.com Mon Nov 30 10:00:00 2026\nSubject: Your Bank\n"
               b"From: security@bank.example\n\nPlease confirm your password.\n>From quoted\n")


def message_with_length(subject, body, length=None):
    length = len(body) if length is None else length
    return f"Subject: {subject}\nContent-Length: {length}\n\n".encode() + body


# procmail writes the true length over the sender's value, within that
# field's width: a wide enough field (a sender's real length, or this).
WIDE = 99999


class MboxclTest(EnvTestCase):
    """procmail (given a Content-Length) and dovecot-lda write mboxcl: body
    lines that start with "From " stay unquoted, and only the length says
    where the message ends."""

    def setUp(self):
        super().setUp()
        self.env.write_mailbox("alice", b"")

    def messages(self):
        """Every message as the client stores it, checked against LIST."""
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        _, listing = c.multiline("LIST")
        sizes = [int(line.split()[1]) for line in listing.split(b"\r\n")[:-2]]
        out = []
        for n, size in enumerate(sizes, 1):
            status, body = c.multiline(f"RETR {n}")
            self.assertEqual(status, f"+OK {size} octets".encode())
            message = unstuff(body)
            self.assertEqual(len(message), size)  # LIST = RETR octets
            out.append(message)
        _, uidl = c.multiline("UIDL")
        self.assertEqual(len(set(uidl.split(b"\r\n")[:-2])), len(sizes))
        c.cmd("QUIT")
        return out

    def test_procmail_a_body_from_line_is_no_message(self):
        procmail_deliver(self.env, "alice", message_with_length("forged", FORGED_BODY, length=WIDE))
        procmail_deliver(self.env, "alice", b"Subject: plain\n\nFrom me here\n")
        stored = self.env.read_mailbox("alice")
        self.assertIn(b"\nFrom bank@example.com Mon Nov 30", stored)  # procmail left it unquoted...
        self.assertRegex(stored, rb"\nContent-Length: *%d\n" % len(FORGED_BODY))  # ...and wrote the true length
        messages = self.messages()
        self.assertEqual(len(messages), 2)
        self.assertTrue(messages[0].endswith(FORGED_BODY.replace(b"\n", b"\r\n")))  # whole, nothing unquoted
        self.assertEqual(messages[1], b"Subject: plain\r\n\r\nFrom me here\r\n")  # procmail's >From unquoted

    def test_procmail_minus_y_quotes_and_the_short_field_is_ignored(self):
        # A sender's "Content-Length: 1": plain procmail would write "99"
        # and quote nothing (no reader can find that message's end; see
        # docs/DESIGN.md). procmail -Y quotes the From line and keeps the
        # sender's length, which fits nothing and is ignored.
        procmail_deliver(self.env, "alice", message_with_length("forged", FORGED_BODY, length=1), options=["-Y"])
        procmail_deliver(self.env, "alice", b"Subject: plain\n\nbody\n", options=["-Y"])
        self.assertIn(b"\n>From bank@example.com", self.env.read_mailbox("alice"))
        messages = self.messages()
        self.assertEqual(len(messages), 2)
        self.assertIn(b"\r\nFrom bank@example.com Mon Nov 30", messages[0])  # unquoted on the way out

    @unittest.skipUnless(have_dovecot_lda(), "dovecot-lda not installed (Debian package dovecot-core)")
    def test_dovecot_lda_mailbox_splits_where_dovecot_says(self):
        bodies = [FORGED_BODY, b"plain body\nFrom me here\n", b"From the start\n\n\nand blank lines\n\n"]
        for n, body in enumerate(bodies):
            dovecot_lda_deliver(self.env, "alice", f"Subject: d{n}\n\n".encode() + body)
        stored = self.env.read_mailbox("alice")
        self.assertEqual(len(re.findall(rb"\nContent-Length: \d+\n", stored)), len(bodies))
        messages = self.messages()
        self.assertEqual(len(messages), len(bodies))  # no fragments, no 0-octet message
        for n, (message, body) in enumerate(zip(messages, bodies)):
            self.assertIn(f"Subject: d{n}\r\n".encode(), message)
            self.assertTrue(message.endswith(b"\r\n\r\n" + body.replace(b"\n", b"\r\n")), message)

    def test_a_length_that_lies_swallows_nothing(self):
        # An MDA that keeps the sender's header (Postfix's local does): the
        # length is wrong, so the From_ lines split as they stand.
        next_message = b"From b@example.org Mon Nov 30 10:00:01 2026\nSubject: next\n\nsecond\n\n"
        self.env.write_mailbox("alice", b"From a@example.org Mon Nov 30 10:00:00 2026\n" +
                               message_with_length("liar", b"short\n", length=6 + 1 + len(next_message) + 40) +
                               b"\n" + next_message)
        messages = self.messages()
        self.assertEqual(len(messages), 2)
        self.assertEqual(messages[1], b"Subject: next\r\n\r\nsecond\r\n")

    @unittest.skipUnless(have_mutt(), "mutt (and script) not installed")
    def test_a_mailbox_mutt_rewrote_is_read_as_mutt_reads_it(self):
        for subject in ("one", "two", "three"):
            procmail_deliver(self.env, "alice", message_with_length(subject, FORGED_BODY))
        mutt_delete(self.env, "alice", "one")  # mutt rewrites the rest with its own Content-Length
        messages = self.messages()
        self.assertEqual(len(messages), 2)
        for message in messages:
            self.assertTrue(message.endswith(FORGED_BODY.replace(b"\n", b"\r\n")))
