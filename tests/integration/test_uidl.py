"""UIDL ids that clients key on ("leave mail on the server"): stable when the
next delivery ends a last line that had no newline, and answered quickly
however many messages share one X-UIDL (anyone can mail such copies)."""

import re

from harness import EnvTestCase, Raw


def uidl_map(c):
    _, body = c.multiline("UIDL")
    return dict(line.split(b" ") for line in body.split(b"\r\n")[:-2])


LAST = b"From a@example.org Thu Nov 26 10:00:00 2026\nSubject: last\n\nlast line"
NEXT = b"From b@example.org Thu Nov 26 10:00:01 2026\nSubject: next\n\nbody\n\n"


class UidlStabilityTest(EnvTestCase):
    def uidl_after(self, data):
        self.env.write_mailbox("alice", data)
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        ids = uidl_map(c)
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        return ids

    def test_last_message_keeps_its_uidl_when_the_next_delivery_ends_its_line(self):
        # An MDA that finds no final newline writes one before the next From_
        # line, with or without a blank line; with CRLF lines the CR is there.
        for last in (LAST, LAST.replace(b"\n", b"\r\n") + b"\r"):
            before = self.uidl_after(last)[b"1"]
            for ending in (b"\n", b"\n\n"):
                after = self.uidl_after(last + ending + NEXT)
                self.assertEqual(after[b"1"], before, (last, ending))
                self.assertEqual(len(after), 2)

    def test_fifty_thousand_copies_of_one_xuidl_get_their_suffixes(self):
        # The suffix search once restarted at ".2" for each copy: quadratic
        # (40,000 copies took 90 s while the client waited, its retries got
        # [IN-USE]). Now a fraction of a second: 60 s is no timing, just room
        # for a loaded machine and sanitizers.
        n = 50000
        msg = b"From a@example.org Thu Nov 26 10:00:00 2026\nX-UIDL: same\nSubject: copy %d\n\nbody\n\n"
        self.env.write_mailbox("bob", b"".join(msg % i for i in range(n)))  # a slow one keeps only bob busy
        c = Raw(self.env.port, timeout=60)
        self.addCleanup(c.close)
        self.assertTrue(c.login("bob").startswith(b"+OK maildrop has %d messages" % n))
        ids = uidl_map(c)
        self.assertEqual(ids[b"1"], b"same")
        self.assertEqual(ids[b"2"], b"same.2")
        self.assertEqual(ids[b"%d" % n], b"same.%d" % n)
        self.assertEqual(len(set(ids.values())), n)
        self.assertTrue(all(re.fullmatch(rb"same(\.\d+)?", v) for v in ids.values()))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
