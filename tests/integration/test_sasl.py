"""AUTH PLAIN (RFC 5034, 4616), LOGIN-DELAY and EXPIRE (RFC 2449)."""

import base64
import os
import time
import unittest

from fixtures import simple
from harness import EnvTestCase, Raw


def b64(data):
    return base64.b64encode(data).decode()


def plain(authcid, password, authzid=""):
    return b64(f"{authzid}\0{authcid}\0{password}".encode())


class SaslPlainTest(EnvTestCase):
    def setUp(self):
        self.env.write_mailbox("alice", simple(2))
        self.env.write_mailbox("carol", simple(1))

    def tearDown(self):
        # Sessions these tests leave open end when the server sees EOF; the
        # next test's login must not race that ([IN-USE] is immediate).
        self.doCleanups()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            c = Raw(self.env.port)
            reply = c.login()
            if reply.startswith(b"+OK"):
                c.cmd("QUIT")  # the maildrop is free again before the answer
            c.close()
            if not reply.startswith(b"-ERR [IN-USE]"):
                break
            time.sleep(0.05)

    def capa(self, c):
        _, body = c.multiline("CAPA")
        return body.split(b"\r\n")[:-2]

    def test_capa_lists_sasl_plain_before_and_after_login(self):
        # CONFORMANCE: R5034-CAPA-1, R2449-CAPA-2
        c = self.connect()
        self.assertIn(b"SASL PLAIN", self.capa(c))
        self.assertTrue(c.cmd("AUTH PLAIN " + plain("alice", "secret")).startswith(b"+OK"))
        self.assertIn(b"SASL PLAIN", self.capa(c))

    def test_initial_response(self):
        # CONFORMANCE: R5034-AUTH-3, R5034-AUTH-8, R5034-PLAIN-1
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("alice", "secret")), b"+OK maildrop has 2 messages (110 octets)")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 2 "))
        self.assertIn("login user=alice", self.env.log_text())

    def test_empty_challenge_then_response(self):
        # CONFORMANCE: R5034-AUTH-2
        c = self.connect()
        c.send("AUTH PLAIN\r\n")
        self.assertEqual(c.sock.recv(4), b"+ \r\n")  # exactly "+ " CRLF (RFC 5034 §4)
        self.assertTrue(c.cmd(plain("alice", "secret")).startswith(b"+OK"))
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 2 "))

    def test_mechanism_name_is_case_insensitive_and_password_may_have_spaces(self):
        c = self.connect()
        self.assertTrue(c.cmd("auth plain " + plain("carol", "a b c")).startswith(b"+OK"))

    def test_empty_initial_response_is_invalid(self):
        # CONFORMANCE: R5034-AUTH-3
        c = self.connect()
        self.assertTrue(c.cmd("AUTH PLAIN =").startswith(b"-ERR"))
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")  # no hang, still AUTHORIZATION

    def test_star_cancels(self):
        # CONFORMANCE: R5034-AUTH-4
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN"), b"+ ")
        self.assertEqual(c.cmd("*"), b"-ERR authentication cancelled")
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")

    def test_bad_base64_is_rejected_not_ignored(self):
        # CONFORMANCE: R5034-AUTH-5
        for bad in ["AAA=BBB", "=AAA", "dGVz!A==", "dGVz dA==", "dGVzdA=", "Zh=="]:
            c = self.connect()
            self.assertEqual(c.cmd("AUTH PLAIN"), b"+ ")
            self.assertEqual(c.cmd(bad), b"-ERR invalid base64 in the SASL response", bad)
            self.assertEqual(c.cmd("USER alice"), b"+OK send PASS", bad)
        c = self.connect()
        self.assertTrue(c.cmd("AUTH PLAIN dGVz!A==").startswith(b"-ERR"))

    def test_malformed_plain_messages(self):
        # CONFORMANCE: R5034-PLAIN-1 (empty authcid or password fails)
        for message in [b"alice\0secret", b"\0\0secret", b"\0alice\0", b"a\0b\0c\0d", b""]:
            c = self.connect()
            reply = c.cmd("AUTH PLAIN " + (b64(message) if message else "="))
            self.assertTrue(reply.startswith(b"-ERR"), message)
            self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")

    def test_unknown_and_server_first_mechanisms(self):
        # CONFORMANCE: R5034-AUTH-1, R5034-AUTH-6, R1734-AUTH-1
        c = self.connect()
        self.assertEqual(c.cmd("AUTH FOOBAR"), b"-ERR unsupported authentication mechanism")
        self.assertTrue(c.cmd("AUTH CRAM-MD5 Zm9v").startswith(b"-ERR"))
        self.assertTrue(c.cmd("AUTH CRAM-MD5").startswith(b"-ERR"))  # legacy flow (RFC 1734): negative, then on
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")

    def test_bare_auth_lists_the_mechanisms(self):
        c = self.connect()
        status, body = c.multiline("AUTH")
        self.assertEqual(status, b"+OK authentication mechanisms follow")
        self.assertEqual(body, b"PLAIN\r\n.\r\n")

    def test_bad_credentials_then_user_pass_works(self):
        # CONFORMANCE: R5034-AUTH-8, R3206-AUTH-1
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("alice", "wrong")), b"-ERR [AUTH] authentication failed")
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("nosuch", "wrong")), b"-ERR [AUTH] authentication failed")
        self.assertTrue(c.login().startswith(b"+OK"))

    def test_authorization_identity(self):
        # CONFORMANCE: R5034-PLAIN-1 (authzid)
        c = self.connect()
        self.assertTrue(c.cmd("AUTH PLAIN " + plain("alice", "secret", authzid="alice")).startswith(b"+OK"))
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("alice", "secret", authzid="bob")),
                         b"-ERR [AUTH] authentication failed")
        self.assertIn("authorization identity 'bob' differs", self.env.log_text())

    def test_busy_maildrop_is_in_use_not_auth(self):
        # R3206-AUTH-1, R2449-INUSE-1: good credentials, maildrop in use.
        # The server closes after such a refusal (the session is spent).
        first = self.connect()
        self.assertTrue(first.login().startswith(b"+OK"))
        c = self.connect()
        self.assertTrue(c.cmd("AUTH PLAIN " + plain("alice", "secret")).startswith(b"-ERR [IN-USE] "))
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN"), b"+ ")
        self.assertTrue(c.cmd(plain("alice", "secret")).startswith(b"-ERR [IN-USE] "))
        first.cmd("QUIT")

    def test_auth_after_login_is_refused(self):
        # CONFORMANCE: R5034-AUTH-1, R1939-KW-3
        c = self.connect()
        c.cmd("AUTH PLAIN " + plain("alice", "secret"))
        self.assertTrue(c.cmd("AUTH PLAIN " + plain("alice", "secret")).startswith(b"-ERR"))
        self.assertEqual(c.cmd("NOOP"), b"+OK")

    def test_long_fields_in_a_continuation_line(self):
        # CONFORMANCE: R5034-AUTH-7, R5034-PLAIN-1 (255-octet fields), R2449-LEN-1
        # Three 255-octet fields: over 1 KiB of base64, more than a command
        # line may carry, processed (then refused: no such user or password).
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN"), b"+ ")
        token = b64(b"a" * 255 + b"\0" + b"b" * 255 + b"\0" + b"p" * 255)
        self.assertGreater(len(token), 1000)
        self.assertEqual(c.cmd(token), b"-ERR [AUTH] invalid user name")
        c = self.connect()
        c.cmd("AUTH PLAIN")
        self.assertEqual(c.cmd(b64(b"\0alice\0" + b"p" * 255)), b"-ERR [AUTH] authentication failed")
        c = self.connect()  # the longest initial response a command line holds: processed
        line = "AUTH PLAIN " + plain("alice", "x" * 173)
        self.assertEqual(len(line) + 2, 253)  # base64 comes in fours: 255 itself cannot be hit
        self.assertEqual(c.cmd(line), b"-ERR [AUTH] authentication failed")

    def test_overlong_continuation_line(self):
        c = self.connect()
        c.cmd("AUTH PLAIN")
        self.assertEqual(c.cmd("A" * 3000), b"-ERR line too long")
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")

    def test_passwords_in_sasl_never_reach_the_log(self):
        self.connect().cmd("AUTH PLAIN " + plain("alice", "Sasl-Canary-42"))
        self.assertNotIn("Sasl-Canary-42", self.env.log_text())
        self.assertNotIn(plain("alice", "Sasl-Canary-42"), self.env.log_text())


class LoginDelayTest(EnvTestCase):
    config = {"login_delay": "3"}

    def test_login_delay(self):
        # CONFORMANCE: R2449-LD-1, R2449-LD-2
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        _, body = c.multiline("CAPA")
        self.assertIn(b"LOGIN-DELAY 3", body.split(b"\r\n"))
        self.assertTrue(c.login().startswith(b"+OK"))
        _, body = c.multiline("CAPA")
        self.assertIn(b"LOGIN-DELAY 3", body.split(b"\r\n"))
        c.cmd("QUIT")
        c = self.connect()
        self.assertEqual(c.cmd("USER alice"), b"+OK send PASS")  # USER reveals nothing
        reply = c.cmd("PASS secret")
        self.assertEqual(reply, b"-ERR [LOGIN-DELAY] minimum time between logins not reached, try later")
        c = self.connect()
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("alice", "secret")),
                         b"-ERR [LOGIN-DELAY] minimum time between logins not reached, try later")
        c = self.connect()  # a wrong password is an ordinary failure, and does not count as a login
        c.cmd("USER alice")
        self.assertEqual(c.cmd("PASS wrong"), b"-ERR [AUTH] authentication failed")
        time.sleep(3.2)
        self.assertTrue(self.connect().login().startswith(b"+OK"))
        self.assertIn("login delay user=alice", self.env.log_text())


class ExpireTest(EnvTestCase):
    def login_with_expire(self, mailbox, capability):
        self.env.write_mailbox("alice", mailbox)
        c = self.connect()
        c.login()
        _, body = c.multiline("CAPA")
        self.assertIn(capability, body.split(b"\r\n"))
        return c

    def test_expire_never_by_default(self):
        # CONFORMANCE: R2449-EXP-1
        self.env.write_mailbox("alice", simple(1))
        c = self.connect()
        _, before = c.multiline("CAPA")
        c.login()
        _, after = c.multiline("CAPA")
        self.assertIn(b"EXPIRE NEVER", before.split(b"\r\n"))
        self.assertIn(b"EXPIRE NEVER", after.split(b"\r\n"))

    def test_expire_days_is_only_advertised(self):
        # CONFORMANCE: R2449-EXP-1
        self.env.write_config(expire="30")
        try:
            data = simple(2)
            c = self.login_with_expire(data, b"EXPIRE 30")
            c.multiline("RETR 1")
            c.cmd("QUIT")
            self.assertEqual(self.env.read_mailbox("alice"), data)
        finally:
            self.env.write_config(expire="never")

    def test_expire_zero_deletes_retrieved_messages_at_quit_only(self):
        # CONFORMANCE: R2449-EXP-2
        self.env.write_config(expire="0")
        try:
            data = simple(3)
            c = self.login_with_expire(data, b"EXPIRE 0")
            c.multiline("RETR 1")
            c.multiline("TOP 2 0")  # TOP is not a retrieval
            c.close()  # no QUIT: nothing goes
            self.assertEqual(self.env.read_mailbox("alice"), data)
            c = self.connect()
            c.login()
            c.multiline("RETR 1")
            c.multiline("TOP 2 0")
            self.assertEqual(c.cmd("QUIT"), b"+OK pop3d signing off (1 message deleted)")
            remaining = self.env.read_mailbox("alice")
            self.assertNotIn(b"Subject: msg 1\n", remaining)
            self.assertIn(b"Subject: msg 2\n", remaining)
        finally:
            self.env.write_config(expire="never")


if __name__ == "__main__":
    unittest.main()
