"""RFC 1939/2449/3206 behaviour of the real binary, byte for byte."""

import re
import unittest

from fixtures import edge_mailbox, simple
from harness import EnvTestCase, unstuff


class ProtocolTest(EnvTestCase):
    def setUp(self):
        self.env.write_mailbox("alice", simple(3))

    def test_greeting_is_one_ok_line_without_timestamp(self):
        c = self.connect()
        self.assertTrue(c.greeting.startswith(b"+OK "))
        self.assertNotIn(b"<", c.greeting)
        self.assertLessEqual(len(c.greeting) + 2, 512)

    def test_capa_before_and_after_login(self):
        c = self.connect()
        status, body = c.multiline("CAPA")
        self.assertEqual(status, b"+OK capability list follows")
        before = body.split(b"\r\n")[:-2]
        self.assertEqual(before, [b"TOP", b"UIDL", b"USER", b"SASL PLAIN", b"RESP-CODES", b"AUTH-RESP-CODE",
                                  b"PIPELINING", b"EXPIRE NEVER"])
        self.assertTrue(c.login().startswith(b"+OK"))
        _, body = c.multiline("CAPA")
        after = body.split(b"\r\n")[:-2]
        self.assertTrue(set(before) <= set(after))
        self.assertTrue(any(l.startswith(b"IMPLEMENTATION ") for l in after))

    def test_keywords_are_case_insensitive(self):
        c = self.connect()
        c.login()
        self.assertEqual(c.cmd("stat"), c.cmd("StAt"))
        self.assertEqual(c.cmd("uidl 1"), c.cmd("UIDL 1"))

    def test_wrong_state_commands(self):
        c = self.connect()
        for cmd in ["STAT", "LIST", "RETR 1", "DELE 1", "RSET", "NOOP", "UIDL", "TOP 1 0", "PASS x"]:
            self.assertTrue(c.cmd(cmd).startswith(b"-ERR"), cmd)
        c = self.connect()
        c.login()
        for cmd in ["USER x", "PASS y", "APOP x y", "AUTH PLAIN", "STLS", "UTF8"]:
            self.assertTrue(c.cmd(cmd).startswith(b"-ERR"), cmd)
        self.assertEqual(c.cmd("NOOP"), b"+OK")

    def test_malformed_commands_then_noop(self):
        c = self.connect()
        c.login()
        for cmd in ["XYZZY", "LIST abc", "RETR", "DELE 1 2", "TOP 1", "TOP 1 -1", "TOP 100 3"]:
            self.assertTrue(c.cmd(cmd).startswith(b"-ERR"), cmd)
        self.assertEqual(c.cmd("NOOP"), b"+OK")

    def test_stat_list_uidl_formats(self):
        c = self.connect()
        c.login()
        self.assertRegex(c.cmd("STAT"), rb"^\+OK \d+ \d+$")
        _, body = c.multiline("LIST")
        lines = body.split(b"\r\n")[:-2]
        self.assertEqual([l.split(b" ")[0] for l in lines], [b"1", b"2", b"3"])
        for l in lines:
            self.assertRegex(l, rb"^\d+ \d+$")
        self.assertRegex(c.cmd("LIST 2"), rb"^\+OK 2 \d+$")
        _, body = c.multiline("UIDL")
        for l in body.split(b"\r\n")[:-2]:
            self.assertRegex(l, rb"^\d+ [\x21-\x7e]{1,70}$")
        self.assertRegex(c.cmd("UIDL 3"), rb"^\+OK 3 [\x21-\x7e]{1,70}$")
        self.assertTrue(c.cmd("UIDL 4").startswith(b"-ERR"))
        self.assertTrue(c.cmd("LIST 0").startswith(b"-ERR"))

    def test_stat_equals_sum_of_list_and_excludes_deleted(self):
        c = self.connect()
        c.login()
        n, octets = map(int, c.cmd("STAT").split()[1:])
        _, body = c.multiline("LIST")
        sizes = {int(l.split()[0]): int(l.split()[1]) for l in body.split(b"\r\n")[:-2]}
        self.assertEqual((n, octets), (3, sum(sizes.values())))
        self.assertEqual(c.cmd("DELE 1"), b"+OK message 1 deleted")
        self.assertEqual(c.cmd("STAT"), b"+OK 2 %d" % (octets - sizes[1]))
        self.assertTrue(c.cmd("DELE 1").startswith(b"-ERR"))
        for cmd in ["LIST 1", "UIDL 1", "TOP 1 0", "RETR 1"]:
            self.assertTrue(c.cmd(cmd).startswith(b"-ERR"), cmd)
        self.assertTrue(c.cmd("RSET").startswith(b"+OK"))
        self.assertEqual(c.cmd("STAT"), b"+OK 3 %d" % octets)

    def test_pipelined_commands_answered_in_order(self):
        c = self.connect()
        c.send("USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual(c.line(), b"+OK send PASS")
        self.assertTrue(c.line().startswith(b"+OK maildrop has 3 messages"))
        self.assertTrue(c.line().startswith(b"+OK 3 "))
        self.assertTrue(c.line().startswith(b"+OK 3 messages"))
        c.multiline_raw()
        self.assertTrue(c.line().startswith(b"+OK"))
        c.multiline_raw()
        self.assertEqual(c.line(), b"+OK")
        self.assertTrue(c.line().startswith(b"+OK pop3d signing off"))
        self.assertEqual(c.read_to_eof(), b"")

    def test_long_line_and_binary_garbage(self):
        c = self.connect()
        self.assertEqual(c.cmd("X" * 10240), b"-ERR line too long")
        # Exactly 255 octets: an ordinary answer (the name is too long for
        # max_username_length), not "line too long".
        self.assertEqual(c.cmd("USER " + "a" * 248), b"-ERR [AUTH] invalid user name")
        c.send(bytes(range(1, 256)).replace(b"\n", b"") + b"\r\n")
        self.assertTrue(c.line().startswith(b"-ERR"))
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertEqual(c.cmd("NOOP"), b"+OK")
        # The daemon still serves new connections.
        self.assertTrue(self.connect().greeting.startswith(b"+OK"))

    def test_too_many_errors_disconnects(self):
        c = self.connect()
        replies = [c.cmd("BOGUS") for _ in range(10)]
        self.assertEqual(replies[-1], b"-ERR too many errors, closing connection")
        self.assertEqual(c.read_to_eof(), b"")

    def test_quit_in_authorization(self):
        c = self.connect()
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(c.read_to_eof(), b"")

    def test_every_status_line_is_ok_or_err_and_codes_are_well_formed(self):
        c = self.connect()
        lines = [c.cmd(x) for x in ["NOOP", "USER ../x", "USER alice", "PASS wrong", "USER alice", "PASS secret",
                                    "STAT", "RETR 9", "DELE 1", "DELE 1", "RSET", "QUIT"]]
        for l in lines:
            self.assertRegex(l, rb"^(\+OK|-ERR)( |$)")
            text = l.split(b" ", 1)[1] if b" " in l else b""
            if text.startswith(b"["):
                self.assertRegex(text, rb"^\[[^\]/ ]+(/[^\]/ ]+)*\]")


class EdgeMailboxTest(EnvTestCase):
    """Sizes, RETR, TOP and UIDL over every edge case of the mbox format."""

    def setUp(self):
        self.data, self.expected = edge_mailbox()
        self.env.write_mailbox("alice", self.data)

    def test_list_sizes_equal_retr_octets(self):
        c = self.connect()
        c.login()
        _, body = c.multiline("LIST")
        sizes = [int(l.split()[1]) for l in body.split(b"\r\n")[:-2]]
        self.assertEqual(len(sizes), len(self.expected))
        for i, expected in enumerate(self.expected, 1):
            status, wire = c.multiline(f"RETR {i}")
            self.assertEqual(status, b"+OK %d octets" % sizes[i - 1])
            got = unstuff(wire)
            self.assertEqual(got, expected, f"message {i}")
            self.assertEqual(len(got), sizes[i - 1], f"message {i}")
            # No bare LF or CR CR LF on the wire.
            self.assertNotIn(b"\r\r\n", wire)
            self.assertIsNone(re.search(rb"(?<!\r)\n", wire))

    def test_dot_stuffing_on_the_wire(self):
        c = self.connect()
        c.login()
        _, wire = c.multiline("RETR 2")
        self.assertEqual(wire, b"Subject: dots\r\n\r\n..\r\n...\r\n..foo\r\nend\r\n.\r\n")

    def test_unterminated_last_message_ends_with_crlf_dot_crlf(self):
        c = self.connect()
        c.login()
        _, wire = c.multiline(f"RETR {len(self.expected)}")
        self.assertTrue(wire.endswith(b"last line\r\n.\r\n"))

    def test_top(self):
        c = self.connect()
        c.login()
        _, wire = c.multiline("TOP 1 0")
        self.assertEqual(wire, b"Subject: plain LF\r\nMessage-ID: <m1@example.org>\r\n\r\n.\r\n")
        _, wire = c.multiline("TOP 1 1")
        self.assertEqual(wire, b"Subject: plain LF\r\nMessage-ID: <m1@example.org>\r\n\r\nHello,\r\n.\r\n")
        _, retr = c.multiline("RETR 5")
        _, top = c.multiline("TOP 5 1000000")
        self.assertGreater(len(retr), 200 * 1024)
        self.assertEqual(top, retr)
        for bad in ["TOP 100 3", "TOP 1", "TOP 1 -1", "TOP 1 x"]:
            self.assertTrue(c.cmd(bad).startswith(b"-ERR"), bad)

    def test_uidl_valid_unique_and_stable(self):
        def uidl():
            c = self.connect()
            c.login()
            _, body = c.multiline("UIDL")
            c.cmd("QUIT")
            return [l.split(b" ")[1] for l in body.split(b"\r\n")[:-2]]
        first = uidl()
        self.assertEqual(len(first), len(self.expected))
        self.assertEqual(len(set(first)), len(first))
        for u in first:
            self.assertRegex(u, rb"^[\x21-\x7e]{1,70}$")
        self.assertEqual(uidl(), first)

    def test_empty_and_missing_mailbox(self):
        for data in (b"", None):
            if data is None:
                import os
                os.unlink(self.env.mailbox("alice"))
            else:
                self.env.write_mailbox("alice", data)
            c = self.connect()
            self.assertTrue(c.login().startswith(b"+OK maildrop has 0 messages"))
            self.assertEqual(c.cmd("STAT"), b"+OK 0 0")
            status, body = c.multiline("LIST")
            self.assertEqual(body, b".\r\n")
            self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))


if __name__ == "__main__":
    unittest.main()
