"""The real popa3d, Dovecot and UW (c-client) still answer UIDL as recorded
in tests/unit/uid_compat_cases.hpp and /work/notes/uidl_compat.md (issue 22).
Skipped where a peer cannot run (peer_servers.PeerUnavailable says why)."""

import os
import re
import shutil
import time
import unittest

from peer_fixtures import FIXTURES
from peer_servers import DovecotPeer, PeerUnavailable, Popa3dPeer, UwPeer, scratch

CASES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "unit", "uid_compat_cases.hpp")


def recorded(table):
    """The ids of one table of uid_compat_cases.hpp, in order."""
    with open(CASES) as f:
        text = f.read()
    body = text[text.index(f"const Case {table}[]"):]
    body = body[:body.index("};")]
    return re.findall(r'\)~~",\s*"([0-9a-f]*)"', body)


class PeerCase(unittest.TestCase):
    peer_class = None

    def setUp(self):
        self.dir = scratch(self.peer_class.name)
        self.addCleanup(shutil.rmtree, self.dir, True)
        try:
            self.peer = self.peer_class(self.dir)
        except PeerUnavailable as e:
            self.skipTest(f"{self.peer_class.name}: {e}")

    def ids(self, data=None):
        return [uid for _, uid in self.peer.uidl(data)]

    def mailbox(self):
        with open(self.peer.mailbox(), "rb") as f:
            return f.read()


class TestPopa3d(PeerCase):
    peer_class = Popa3dPeer

    def test_answers_the_recorded_ids(self):
        for fixture, table in (("tricky", "kPopa3dTricky"), ("content-length-valid-from", "kPopa3dContentLength"),
                               ("pseudo", "kPopa3dPseudo")):
            with self.subTest(fixture=fixture):
                self.assertEqual(self.ids(FIXTURES[fixture]), recorded(table))

    def test_lists_duplicates_and_never_writes(self):
        ids = self.ids(FIXTURES["tricky"])
        self.assertEqual(ids[0], ids[1])
        self.assertEqual(ids[3], "d98c1dd404b2008f")  # no line it hashes: MD5 of nothing
        self.assertEqual(self.mailbox(), FIXTURES["tricky"])

    def test_needs_an_empty_line_before_from(self):
        self.assertEqual(len(self.ids(FIXTURES["no-blank-before-from"])), 1)
        self.assertEqual(self.ids(FIXTURES["crlf"]), ["8a2850714c7423f5"])  # "\r\n" is not empty: one message


class TestDovecot(PeerCase):
    peer_class = DovecotPeer

    def test_takes_stamps_as_recorded(self):
        self.assertEqual(self.ids(FIXTURES["pseudo"]), [i for i in recorded("kDovecotPseudo") if i])
        self.assertEqual(self.ids(FIXTURES["stamped"]), recorded("kDovecotStamped"))

    def test_stamps_a_mailbox_it_never_saw_and_keeps_the_ids(self):
        before = int(time.time())
        ids = self.ids(FIXTURES["tricky"])
        self.assertEqual([i[:8] for i in ids], [f"{n:08x}" for n in range(1, 12)])  # %08Xu: the uid first
        validity = int(ids[0][8:], 16)
        self.assertTrue(before <= validity <= time.time() + 1)  # a new mailbox's validity is the clock
        after = self.mailbox()
        self.assertIn(f"X-IMAPbase: {validity} 0000000011".encode(), after)
        self.assertEqual(after.count(b"\nX-UID: "), 11)
        time.sleep(1.1)
        self.assertEqual(self.ids(), ids)

    def test_honours_content_length(self):
        self.assertEqual(len(self.ids(FIXTURES["content-length-valid-from"])), 2)


class TestUw(PeerCase):
    peer_class = UwPeer

    def test_takes_stamps_as_recorded(self):
        self.assertEqual(self.ids(FIXTURES["pseudo"]), [i for i in recorded("kUwPseudo") if i])

    def test_stamps_a_mailbox_it_never_saw_and_keeps_the_ids(self):
        ids = self.ids(FIXTURES["tricky"])
        self.assertEqual([i[8:] for i in ids], [f"{n:08x}" for n in range(1, 12)])  # validity first
        validity = int(ids[0][:8], 16)
        self.assertIn(f"X-IMAPbase: {validity} 11\n".encode(), self.mailbox())
        time.sleep(1.1)
        self.assertEqual(self.ids(), ids)

    def test_hides_imap_deleted_messages(self):
        self.assertEqual([i[8:] for i in self.ids(FIXTURES["imap-deleted"])], ["00000002"])


if __name__ == "__main__":
    unittest.main()
