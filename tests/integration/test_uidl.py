"""UIDL ids that clients key on ("leave mail on the server"): stable when the
next delivery ends a last line that had no newline, and answered quickly
however many messages share one X-UIDL (anyone can mail such copies)."""

import hashlib
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


STAMPED = (b"From a@example.org Thu Nov 26 10:00:00 2026\nX-IMAPbase: 1700000000 0000000003\n"
           b"X-UID: 1\nX-UIDL: qpopper-1\nSubject: one\n\none\n\n"
           b"From b@example.org Thu Nov 26 10:00:01 2026\nX-UID: 2\nSubject: two\n\ntwo\n\n"
           b"From c@example.org Thu Nov 26 10:00:02 2026\nSubject: delivered after the switch\n\nthree\n\n")
POPA3D = (b"From a@example.org Thu Nov 26 10:00:00 2026\nReceived: by mx id 1\nSubject: one\n\none\n\n"
          b"From b@example.org Thu Nov 26 10:00:00 2026\nSubject: none of its lines\n\ntwo\n\n"
          b"From c@example.org Thu Nov 26 10:00:00 2026\nSubject: none of its lines either\n\nthree\n\n"
          b"From d@example.org Tue Dec  1 09:00:00 2026\nReceived: by mx id 4\nSubject: after\n\nfour\n\n")


class UidlCompatTest(EnvTestCase):
    """uidl_compat through the daemon (the peers' own answers are checked in
    test_uidl_compat and test_uid_compat)."""

    def ids_with(self, data, **config):
        self.env.write_mailbox("alice", data)
        self.env.write_config(**{"uidl_compat_until": "", **config})
        c = self.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        ids = uidl_map(c)
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        return [ids[b"%d" % (i + 1)] for i in range(len(ids))]

    def test_dovecot_and_uw_ids_come_from_x_uid_and_new_mail_gets_pop3ds(self):
        own = self.ids_with(STAMPED, uidl_compat="none")
        self.assertEqual(own[0], b"qpopper-1")
        dovecot = self.ids_with(STAMPED, uidl_compat="dovecot")
        self.assertEqual(dovecot[:2], [b"000000016553f100", b"000000026553f100"])  # uid, validity
        self.assertEqual(dovecot[2], own[2])
        uw = self.ids_with(STAMPED, uidl_compat="uw")
        self.assertEqual(uw[:2], [b"6553f10000000001", b"6553f10000000002"])  # validity, uid
        self.assertEqual(uw[2], own[2])
        self.assertEqual(self.env.read_mailbox("alice"), STAMPED)  # never written

    def test_popa3d_ids_until_the_switch_and_repeats_made_unique(self):
        ids = self.ids_with(POPA3D, uidl_compat="popa3d", uidl_compat_until="2026-11-30 00:00")
        self.assertRegex(ids[0], rb"^[0-9a-f]{16}$")
        self.assertEqual(ids[1], b"d98c1dd404b2008f")  # popa3d's id for a header without its lines
        self.assertEqual(ids[2], b"d98c1dd404b2008f.2")  # the repeat gets a suffix
        self.assertRegex(ids[3], rb"^[0-9a-f]{32}$")  # delivered after the switch: pop3d's own
        self.assertIn("uidl compat:", self.env.log_text())
        self.assertIn("1 repeated id got a suffix", self.env.log_text())


class UidlLargeMailboxTest(EnvTestCase):
    def test_ids_of_a_mailbox_hashed_on_two_cores_match_sha256(self):
        # Above 8 MiB a helper thread hashes the second half (uid_scan.cpp);
        # the ids are checked against an independent SHA-256.
        msgs, want = [], []
        for i in range(6000):
            from_line = b"From a@example.org Thu Nov 26 10:00:%02d 2026\n" % (i % 60)
            kept = b"Subject: message %d\nMessage-ID: <%d@x>\n" % (i, i)
            body = b"\n" + (b"line %d of the body\n" % i) * (i % 200)
            msgs.append(from_line + b"Status: RO\n" + kept + b"X-Status: A\n" + body + b"\n")
            want.append(hashlib.sha256(from_line + kept + body).hexdigest()[:32].encode())
        data = b"".join(msgs)
        self.assertGreater(len(data), 9 * 1024 * 1024)
        self.env.write_mailbox("bob", data)
        c = Raw(self.env.port, timeout=60)
        self.addCleanup(c.close)
        self.assertTrue(c.login("bob").startswith(b"+OK"))
        _, body = c.multiline("UIDL")
        self.assertEqual([line.split(b" ")[1] for line in body.split(b"\r\n")[:-2]], want)
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
